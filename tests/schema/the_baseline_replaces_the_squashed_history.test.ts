import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  applyMigrations,
  listMigrations,
  PartlySquashedHistory,
  REPO_ROOT,
  squashedVersions,
  type Migration,
} from '../../packages/db/src/migrate.ts'
import { dumpTollgateSchemas, openScratch, type Built } from './scratch.ts'

const external = inject('externalDatabase')

const git = (...args: string[]): string | undefined => {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return undefined
  }
}

/** The baseline (the migration with a `-- squashes:` header) and the versions it replaces. */
const findBaseline = async (): Promise<{ baseline: Migration; squashes: string[] } | undefined> => {
  for (const migration of await listMigrations()) {
    const squashes = squashedVersions(await readFile(migration.file, 'utf8'))
    if (squashes.length > 0) return { baseline: migration, squashes }
  }
  return undefined
}

/**
 * The text of squashed migration `version` as it last stood on main: in the parent of the commit
 * that deleted it (or in HEAD while the squash is not committed yet). Undefined without history.
 */
const oldMigration = (version: string): { name: string; text: string } | undefined => {
  const pattern = `supabase/migrations/${version}_*`
  const deletedIn = git('log', '-1', '--format=%H', '--diff-filter=D', 'HEAD', '--', pattern)?.trim()
  const commit = deletedIn ? `${deletedIn}^1` : 'HEAD'
  const path = git('ls-tree', '-r', '--name-only', commit, '--', 'supabase/migrations/')
    ?.split('\n')
    .find((file) => file.startsWith(`supabase/migrations/${version}_`))
  if (!path) return undefined
  const text = git('show', `${commit}:${path}`)
  return text === undefined ? undefined : { name: path.split('/').pop() ?? path, text }
}

const found = await findBaseline()
const history = found?.squashes.map(oldMigration)
const missing = !found || !history || history.some((m) => m === undefined)
if (missing) console.log('baseline check skipped: no baseline, or the squashed files are not in this clone')

describe.skipIf(external || missing)('the generated baseline', () => {
  let dir = ''
  let old: Built
  let fresh: Built
  let partial: Built

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-squashed-'))
    for (const m of history ?? []) if (m) await writeFile(join(dir, m.name), m.text)
    old = await openScratch()
    await applyMigrations(old.sql, dir)
    // The baseline alone: the migrations after it change the schema on purpose.
    if (!found) throw new Error('no baseline')
    const baselineOnly = await mkdtemp(join(tmpdir(), 'tollgate-baseline-'))
    await writeFile(join(baselineOnly, basename(found.baseline.file)), await readFile(found.baseline.file, 'utf8'))
    fresh = await openScratch()
    await applyMigrations(fresh.sql, baselineOnly)
    await rm(baselineOnly, { recursive: true, force: true })
    partial = await openScratch()
    const first = (history ?? [])[0]
    if (!first) throw new Error('no squashed migration')
    await rm(dir, { recursive: true, force: true })
    dir = await mkdtemp(join(tmpdir(), 'tollgate-squashed-'))
    await writeFile(join(dir, first.name), first.text)
    await applyMigrations(partial.sql, dir)
  })

  afterAll(async () => {
    await old?.close()
    await fresh?.close()
    await partial?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('builds the schema the history it squashes built, privileges included', async () => {
    expect(await dumpTollgateSchemas(old.superuserUrl)).toBe(
      await dumpTollgateSchemas(fresh.superuserUrl),
    )
  })

  it('is recorded without running on a database that applied every squashed version', async () => {
    if (!found) throw new Error('no baseline')
    const before = await dumpTollgateSchemas(old.superuserUrl)
    const later = (await listMigrations())
      .map((m) => m.version)
      .filter((v) => v > found.baseline.version)
    expect(await applyMigrations(old.sql)).toEqual(later)
    const [row] = await old.sql<{ statements: string[] }[]>`
      select statements from supabase_migrations.schema_migrations
      where version = ${found.baseline.version}`
    expect(row).toEqual({ statements: [] })
    if (later.length === 0) expect(await dumpTollgateSchemas(old.superuserUrl)).toBe(before)
  })

  it('refuses a database that applied part of the squashed history, changing nothing', async () => {
    const before = await dumpTollgateSchemas(partial.superuserUrl)
    await expect(applyMigrations(partial.sql)).rejects.toBeInstanceOf(PartlySquashedHistory)
    expect(await dumpTollgateSchemas(partial.superuserUrl)).toBe(before)
  })
})
