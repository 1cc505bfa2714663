import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { listMigrations, SEED_FILE, type Migration } from '../../packages/db/src/migrate.ts'
import { dumpTollgateSchemas, openScratch, type Built } from '../schema/scratch.ts'
import { cliUrl, dbPush, migrationList, supabase } from './supabase-cli.ts'

// Scratch databases need a cluster of our own (as in tests/schema/migrations.test.ts).
const external = inject('externalDatabase')

type Recorded = { version: string; name: string; statements: string[] }

describe.skipIf(external)('supabase db push on a fresh Supabase-like database', () => {
  let db: Built
  let local: Migration[] = []
  let versions: string[] = []

  const recorded = (): Promise<Recorded[]> =>
    db.sql<Recorded[]>`
      select version, name, statements from supabase_migrations.schema_migrations order by version`

  const plans = async (): Promise<string[]> =>
    (await db.sql<{ id: string }[]>`select id from tollgate.plans order by sort_order, id`).map(
      (row) => row.id,
    )

  beforeAll(async () => {
    // Bootstrapped (auth, API roles) and nothing else; the CLI connects as db.url's user, postgres.
    db = await openScratch()
    local = await listMigrations()
    versions = local.map((m) => m.version)
  })

  afterAll(async () => {
    await db?.close()
  })

  it('runs as postgres, which is not a superuser, as on hosted Supabase', async () => {
    const [who] = await db.sql`
      select current_user as user, r.rolsuper as superuser
      from pg_catalog.pg_roles r where r.rolname = current_user`
    expect(who).toEqual({ user: 'postgres', superuser: false })
    expect(local.length).toBeGreaterThan(0)
  })

  it('lists every local migration as not applied; a dry run or a push without --yes changes nothing', async () => {
    const before = await migrationList(db.url)
    expect(before.migrations).toEqual(
      versions.map((version) => expect.objectContaining({ local: version, remote: '' })),
    )

    const dry = await dbPush(db.url, ['--include-seed', '--dry-run'])
    expect(dry).toMatchObject({ dryRun: true, upToDate: false, seeds: ['supabase/seed.sql'] })
    expect(dry.migrations).toEqual(local.map((m) => basename(m.file)))
    // Not on a terminal, a push without --yes asks nothing and applies nothing.
    const unconfirmed = await supabase(['db', 'push', `--remote=${cliUrl(db.url)}`])
    expect(unconfirmed.code).not.toBe(0)
    expect(unconfirmed.stderr).toMatch(/--yes/)
    const [row] = await db.sql`
      select pg_catalog.to_regnamespace('tollgate') is null as no_schema,
        pg_catalog.to_regclass('supabase_migrations.schema_migrations') is null as no_history`
    expect(row).toEqual({ no_schema: true, no_history: true })
  })

  it('applies every migration, owned by postgres, and records each one', async () => {
    const pushed = await dbPush(db.url)
    expect(pushed).toMatchObject({ upToDate: false, dryRun: false, seeds: [] })
    expect(pushed.migrations).toEqual(local.map((m) => basename(m.file)))

    expect((await recorded()).map(({ version, name }) => ({ version, name }))).toEqual(
      local.map(({ version, name }) => ({ version, name })),
    )
    const [objects] = await db.sql`
      select pg_catalog.to_regclass('tollgate.plans') is not null as plans,
        pg_catalog.to_regclass('tollgate.usage') is not null as usage_view,
        pg_catalog.to_regclass('tollgate_private.usage_counters') is not null as counters,
        pg_catalog.to_regprocedure('tollgate.consume_usage(text, bigint, text, jsonb)') is not null
          as consume_usage,
        (select pg_catalog.pg_get_userbyid(nspowner) from pg_catalog.pg_namespace
          where nspname = 'tollgate') as owner`
    expect(objects).toEqual({
      plans: true,
      usage_view: true,
      counters: true,
      consume_usage: true,
      owner: 'postgres',
    })
    // Without --include-seed the seed stays out.
    expect(await plans()).toEqual([])
  })

  it('then lists every migration with both its local and remote version', async () => {
    const after = await migrationList(db.url)
    expect(after.migrations).toEqual(
      versions.map((version) => expect.objectContaining({ local: version, remote: version })),
    )
    // The table a person reads: | `version` | `version` | time |
    const text = await supabase(['migration', 'list', `--remote=${cliUrl(db.url)}`])
    expect(text.code, text.stderr).toBe(0)
    for (const version of versions) {
      expect(text.stdout).toMatch(new RegExp(`\`${version}\`\\s*\\|\\s*\`${version}\``))
    }
  })

  it('does nothing on a second push', async () => {
    const schema = await dumpTollgateSchemas(db.superuserUrl)
    const history = await recorded()
    const again = await dbPush(db.url)
    expect(again).toMatchObject({
      upToDate: true,
      migrations: [],
      message: 'Remote database is up to date.',
    })
    expect(await recorded()).toEqual(history)
    expect(await dumpTollgateSchemas(db.superuserUrl)).toBe(schema)
  })

  it('runs supabase/seed.sql once with --include-seed: plans free, pro and enterprise', async () => {
    const seeded = await dbPush(db.url, ['--include-seed'])
    expect(seeded).toMatchObject({ upToDate: false, migrations: [], seeds: ['supabase/seed.sql'] })
    expect(await plans()).toEqual(['free', 'pro', 'enterprise'])
    const hash = createHash('sha256')
      .update(await readFile(SEED_FILE))
      .digest('hex')
    const files = await db.sql`select path, hash from supabase_migrations.seed_files`
    expect(files).toEqual([{ path: 'supabase/seed.sql', hash }])

    const limits = () => db.sql`select * from tollgate.plan_limits order by plan_id, metric`
    const before = await limits()
    const again = await dbPush(db.url, ['--include-seed'])
    expect(again).toMatchObject({ upToDate: true, seeds: [] })
    expect(await limits()).toEqual(before)
  })
})
