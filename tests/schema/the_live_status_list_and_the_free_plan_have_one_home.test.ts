import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { listMigrations, REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

// Each list of statuses has one home, a SQL function; everything else calls it (SQL) or is
// generated from it (packages/client/src/database.facts.ts, by npm run gen:types).
const HOMES: Record<string, string[]> = {
  'sql/0020_function_live_statuses.sql': ['trialing', 'active', 'past_due', 'unpaid', 'paused'],
  'sql/0021_function_plan_statuses.sql': ['trialing', 'active', 'past_due'],
  'sql/0022_function_good_standing_statuses.sql': ['trialing', 'active'],
}
const GENERATED = ['packages/client/src/database.facts.ts']
const FREE_HOME = 'sql/0025_function_free_plan_id.sql'

// A written list of quoted words: ('a', 'b'), ['a', 'b'] or array['a', 'b'], across lines too.
const LIST = /[([]\s*((?:['"][a-z_]+['"]\s*,\s*)+['"][a-z_]+['"])\s*,?\s*[)\]]/g
const WORD = /['"]([a-z_]+)['"]/g
// The plan id as a literal; prepare_checkout's answer kind `free` (no payment needed) is no plan id.
const FREE_LITERAL = /['"`]free['"`]/g
const FREE_KIND = /kind['"]?\s*(?:,|:|===|==|!==)\s*['"`]free['"`]/g

const sources = async (): Promise<{ file: string; text: string }[]> => {
  const files: string[] = []
  for (const dir of ['sql', 'packages', 'functions']) {
    const entries = await readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
    for (const e of entries) {
      const file = join(e.parentPath, e.name)
      if (e.isFile() && /\.(ts|sql)$/.test(e.name) && !file.includes('node_modules')) files.push(file)
    }
  }
  return Promise.all(
    files.sort().map(async (file) => ({ file: relative(REPO_ROOT, file), text: await readFile(file, 'utf8') })),
  )
}

const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x)) && b.every((x) => a.includes(x))

describe('the status lists and the free plan id', () => {
  it('are written only in their SQL function (no other file spells a status list out)', async () => {
    const files = await sources()
    expect(files.map((f) => f.file)).toContain('packages/client/src/index.ts')
    const copies = files.flatMap(({ file, text }) =>
      [...text.matchAll(LIST)]
        .map((match) => [...(match[1] ?? '').matchAll(WORD)].map((w) => w[1] ?? ''))
        .filter((words) => Object.values(HOMES).some((home) => sameSet(words, home)))
        .filter((words) => !(HOMES[file] && sameSet(words, HOMES[file])) && !GENERATED.includes(file))
        .map((words) => `${file}: ${words.join(', ')}`),
    )
    expect(copies).toEqual([])
  })

  it("are called, not copied: 'free' as a plan id only in free_plan_id()", async () => {
    const strays = (await sources())
      .filter(({ file }) => file !== FREE_HOME)
      .flatMap(({ file, text }) => {
        const literals = [...text.matchAll(FREE_LITERAL)].length
        const kinds = [...text.matchAll(FREE_KIND)].length
        return literals > kinds ? [`${file}: ${literals - kinds} x 'free'`] : []
      })
    expect(strays).toEqual([])
  })

  it('give the one-live-subscription index its predicate, which the hot lookups still use', async () => {
    const [index] = await sql<{ def: string }[]>`
      select pg_catalog.pg_get_indexdef('tollgate.subscriptions_one_live_per_user'::regclass) as def`
    expect(index?.def).toContain('tollgate_private.live_statuses()')
    // The lookup entitlement, live_subscription_of and prepare_checkout make, as a generic plan.
    const plan = await sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      await tx`set local plan_cache_mode = force_generic_plan`
      await tx.unsafe(`prepare live_lookup(uuid) as select s.* from tollgate.subscriptions s
        where s.user_id = $1 and s.status = any (tollgate_private.live_statuses())`)
      const rows = await tx.unsafe(`explain execute live_lookup('00000000-0000-0000-0000-000000000000')`)
      await tx.unsafe('deallocate live_lookup')
      return rows.map((r) => String(r['QUERY PLAN'])).join('\n')
    })
    expect(plan).toContain('subscriptions_one_live_per_user')
  })

  it('rebuild the index in every migration that redefines live_statuses() (its predicate)', async () => {
    const unsafe: string[] = []
    for (const migration of await listMigrations()) {
      const text = (await readFile(migration.file, 'utf8')).toLowerCase()
      if (!/function\s+"?tollgate_private"?\."?live_statuses"?\s*\(/.test(text)) continue
      if (!/(reindex\s+index|create\s+unique\s+index)\s+("?tollgate"?\.)?"?subscriptions_one_live_per_user/.test(text)) {
        unsafe.push(`${migration.version}_${migration.name}`)
      }
    }
    expect(unsafe).toEqual([])
  })
})
