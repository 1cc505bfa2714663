import { cpus, loadavg, release, totalmem } from 'node:os'
import type { Session } from './session.ts'
import type { BenchResult } from './types.ts'

const SETTINGS = [
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_sync_method',
  'shared_buffers',
  'max_wal_size',
  'checkpoint_timeout',
  'max_connections',
]

/** The server's version and the settings that move write throughput. */
export const postgresFacts = async (session: Session): Promise<BenchResult['postgres']> => {
  const { superSql } = session
  const [version] = await superSql<{ version: string }[]>`select version()`
  const settingRows = await superSql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_catalog.pg_settings where name in ${superSql(SETTINGS)}`
  return {
    version: version?.version ?? 'unknown',
    settings: Object.fromEntries(
      settingRows.map((row) => [row.name, row.unit ? `${row.setting} (${row.unit})` : row.setting]),
    ),
  }
}

/** The machine's facts, with the load average before the run and now. */
export const machineFacts = (loadAverageBefore: number[]): BenchResult['machine'] => {
  const cpuList = cpus()
  return {
    cores: cpuList.length,
    cpu: cpuList[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverageBefore,
    loadAverageAfter: loadavg(),
  }
}
