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

/** Takes a CPU snapshot of the cluster's processes and of this process. */
export const cpuSnapshot = (cluster: Cluster): CpuSnapshot => {
  // On-CPU time of the postmaster and its children: backends, WAL writer, checkpointer,
  // autovacuum. Other tenants of the machine are not counted.
  const stats = processStats(cluster)
  const client = process.cpuUsage()
  return {
    serverUs: stats === null ? null : stats.backends.cpuUs + stats.others.cpuUs,
    clientUs: client.user + client.system,
  }
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

/** Scheduling and CPU of a cluster's processes, summed: backends apart from the rest. */
export type ProcessStats = {
  /** On-CPU time (schedstat), µs. */
  cpuUs: number
  /** User and system time (stat utime, stime), µs at the kernel's 100 Hz tick. */
  userUs: number
  systemUs: number
  /** Times scheduled in (schedstat), and context switches (status). */
  scheduled: number
  voluntary: number
  involuntary: number
}

const noStats = (): ProcessStats => ({
  cpuUs: 0,
  userUs: 0,
  systemUs: 0,
  scheduled: 0,
  voluntary: 0,
  involuntary: 0,
})

/**
 * The cluster's backends and its other processes (WAL writer, checkpointer, autovacuum...), read
 * from /proc (null without it): where a figure's Postgres CPU goes and how often it slept.
 */
export const processStats = (
  cluster: Cluster,
): { backends: ProcessStats; others: ProcessStats } | null => {
  const postmaster = postmasterPid(cluster)
  if (postmaster === null) return null
  const backends = noStats()
  const others = noStats()
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
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(entry) !== postmaster && Number(fields[1]) !== postmaster) continue
      // A backend's title is "postgres: <user> <database> <client> <state>"; the others name
      // their role (walwriter, checkpointer, autovacuum launcher, ...).
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      const own =
        Number(entry) !== postmaster &&
        !/walwriter|checkpointer|background writer|autovacuum|logical replication|archiver/.test(title)
          ? backends
          : others
      const [ns, , slices] = readFileSync(`/proc/${entry}/schedstat`, 'utf8').split(' ').map(Number)
      const status = readFileSync(`/proc/${entry}/status`, 'utf8')
      own.cpuUs += (ns ?? 0) / 1000
      own.userUs += Number(fields[11]) * 10_000
      own.systemUs += Number(fields[12]) * 10_000
      own.scheduled += slices ?? 0
      own.voluntary += Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0)
      own.involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0)
    } catch {
      // The process ended meanwhile.
    }
  }
  return { backends, others }
}

/** `after - before`, field by field, divided by `per` (events, calls). */
export const statsPer = (after: ProcessStats, before: ProcessStats, per: number): ProcessStats => ({
  cpuUs: (after.cpuUs - before.cpuUs) / per,
  userUs: (after.userUs - before.userUs) / per,
  systemUs: (after.systemUs - before.systemUs) / per,
  scheduled: (after.scheduled - before.scheduled) / per,
  voluntary: (after.voluntary - before.voluntary) / per,
  involuntary: (after.involuntary - before.involuntary) / per,
})
