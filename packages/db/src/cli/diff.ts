/**
 * `npm run db:diff -- <name> [--sql-dir <dir>] [--migrations-dir <dir>]`: builds one throwaway
 * database from supabase/migrations and one from sql/ (on an own cluster, or on DATABASE_URL's
 * server when it is set), diffs them with `supabase db diff --from … --to …` and writes
 * supabase/migrations/<UTC timestamp>_<name>.sql. Writes nothing when they already agree.
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { DiffFailed, generateMigration } from '../diff.ts'
import { REPO_ROOT } from '../migrate.ts'

const usage = 'usage: npm run db:diff -- <name> [--sql-dir <dir>] [--migrations-dir <dir>]\n'

const parse = () =>
  parseArgs({
    allowPositionals: true,
    options: { 'sql-dir': { type: 'string' }, 'migrations-dir': { type: 'string' } },
  })
let parsed: ReturnType<typeof parse>
try {
  parsed = parse()
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}`)
  process.exit(2)
}
const [name, ...extra] = parsed.positionals
if (name === undefined || extra.length > 0) {
  process.stderr.write(usage)
  process.exit(2)
}

const started = Date.now()
try {
  const result = await generateMigration({
    name,
    sqlDir: parsed.values['sql-dir'],
    migrationsDir: parsed.values['migrations-dir'],
    databaseUrl: process.env.DATABASE_URL || undefined,
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (result.missed.length > 0) {
    const what =
      result.file === undefined
        ? 'the diff tool found no difference, but the migrations'
        : `wrote ${relative(REPO_ROOT, result.file)}, but the migrations with it`
    process.stderr.write(
      `db:diff: ${what} (${seconds} s) still ` +
        `differ from sql/ in what the diff tool cannot express (pg_dump lines; - only in sql/, + only in the migrations):\n` +
        result.missed.map((line) => `  ${line}\n`).join('') +
        'Add them by hand to the new migration (or to a new one: `npm run db:diff -- <name>` writes none here), each\n' +
        'marked `-- hand edit:`, then run `npx vitest --run tests/schema`.\n',
    )
    process.exitCode = 1
  } else process.stdout.write(
    result.file === undefined
      ? `db:diff: no difference between supabase/migrations and sql/; nothing written (${seconds} s)\n`
      : `db:diff: wrote ${relative(REPO_ROOT, result.file)} (${seconds} s); review it, then commit it with the sql/ change\n`,
  )
} catch (error) {
  const e = error as { message?: string; code?: string }
  const prefix = error instanceof DiffFailed ? '' : e.code ? `[${e.code}] ` : ''
  process.stderr.write(`db:diff failed: ${prefix}${e.message ?? String(error)}\n`)
  process.exitCode = 1
}
