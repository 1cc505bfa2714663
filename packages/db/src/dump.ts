import { join } from 'node:path'
import { runCommand } from './run.ts'

/** A Postgres client binary (PG_BIN overrides the Postgres 15 directory). */
export const pgBin = (name: string): string =>
  join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', name)

/**
 * `pg_dump --schema-only` of Tollgate's two schemas, privileges included, without comment lines,
 * blank lines and the random `\restrict` key newer pg_dump versions print: two databases with the
 * same schema give the same text.
 */
export const dumpTollgateSchemas = async (url: string): Promise<string> => {
  const result = await runCommand(pgBin('pg_dump'), [
    '--schema-only',
    '--schema=tollgate',
    '--schema=tollgate_private',
    `--dbname=${url}`,
  ])
  if (result.code !== 0) throw new Error(`pg_dump failed (${result.code}): ${result.stderr}`)
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('--'))
    .filter((line) => !/^\\(un)?restrict\b/.test(line))
    .join('\n')
}

/**
 * The lines of dump `expected` that `actual` lacks ('-') and the lines `actual` has that `expected`
 * lacks ('+'), each once per occurrence: what stands between two schemas, for a person to read.
 */
export const dumpDifference = (expected: string, actual: string): string[] => {
  const count = (text: string): Map<string, number> => {
    const counts = new Map<string, number>()
    for (const line of text.split('\n')) counts.set(line, (counts.get(line) ?? 0) + 1)
    return counts
  }
  const want = count(expected)
  const got = count(actual)
  const out: string[] = []
  for (const [line, n] of want) for (let i = got.get(line) ?? 0; i < n; i++) out.push(`- ${line}`)
  for (const [line, n] of got) for (let i = want.get(line) ?? 0; i < n; i++) out.push(`+ ${line}`)
  return out
}
