import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Cluster } from '../../packages/db/src/cluster.ts'

/** CPU time so far in µs: the cluster's processes (null without /proc) and this process. */
export type CpuSnapshot = { serverUs: number | null; clientUs: number }

/** CPU used between two snapshots. */
export type CpuUse = { serverUs: number | null; clientUs: number }

const postmasterPid = (cluster: Cluster): number | null => {
  try {
    const pid = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

// On-CPU time (first field of /proc/<pid>/schedstat, ns) of the postmaster and its children:
// backends, WAL writer, checkpointer, autovacuum. Other tenants of the machine are not counted.
const serverNs = (postmaster: number): number | null => {
  let total = 0
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return null
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (Number(entry) !== postmaster && ppid !== postmaster) continue
      total += Number(readFileSync(`/proc/${entry}/schedstat`, 'utf8').split(' ')[0] ?? 0)
    } catch {
      // The process ended meanwhile.
    }
  }
  return total
}

/** Takes a CPU snapshot of the cluster's processes and of this process. */
export const cpuSnapshot = (cluster: Cluster): CpuSnapshot => {
  const pid = postmasterPid(cluster)
  const server = pid === null ? null : serverNs(pid)
  const client = process.cpuUsage()
  return { serverUs: server === null ? null : server / 1000, clientUs: client.user + client.system }
}

/** CPU used since `before`. */
export const cpuSince = (cluster: Cluster, before: CpuSnapshot): CpuUse => {
  const now = cpuSnapshot(cluster)
  return {
    serverUs:
      now.serverUs === null || before.serverUs === null ? null : now.serverUs - before.serverUs,
    clientUs: now.clientUs - before.clientUs,
  }
}
