/**
 * Regenerates `database.types.ts` from the database at DATABASE_URL (built from the migrations):
 * `npm run gen:types`. Uses the Supabase CLI's `gen types typescript`, which needs no Docker.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root (the CLI runs there). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The committed types file. */
export const TYPES_FILE = fileURLToPath(new URL('./database.types.ts', import.meta.url))

/** The schema the types describe. */
export const SCHEMA = 'tollgate'

// The CLI wants TLS off for a plain local Postgres URL.
const withoutTls = (url: string): string => {
  const parsed = new URL(url)
  if (!parsed.searchParams.has('sslmode')) parsed.searchParams.set('sslmode', 'disable')
  return parsed.toString()
}

/** The TypeScript types of schema `tollgate` of the database at `url`, as the Supabase CLI prints them. */
export const generateTypes = (url: string): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      join(REPO_ROOT, 'node_modules', '.bin', 'supabase'),
      ['gen', 'types', 'typescript', `--remote=${withoutTls(url)}`, '--schema', SCHEMA],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`supabase gen types failed: ${stderr || error.message}`))
        else resolve(stdout)
      },
    )
  })

const main = async (): Promise<void> => {
  const url = process.env.DATABASE_URL
  if (!url) throw new Error('DATABASE_URL is not set (a database built with npm run db:setup)')
  await writeFile(TYPES_FILE, await generateTypes(url))
  process.stdout.write(`wrote ${TYPES_FILE}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
