import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { applyMigrations, applySeed, listMigrations } from '../../packages/db/src/migrate.ts'
import { buildScratch, dumpTollgateSchemas, openScratch, type Built } from './scratch.ts'

// Scratch databases need a cluster of our own (tests/harness/migrate.test.ts covers DATABASE_URL).
const external = inject('externalDatabase')

describe.skipIf(external)('the migrations', () => {
  let fromMigrations: Built
  let fromSql: Built
  let appliedBy: { user: string; superuser: boolean } | undefined
  let applied: string[] = []

  beforeAll(async () => {
    // Built as the owner role postgres, which is not a superuser, as `supabase db push` runs.
    fromMigrations = await openScratch()
    const [who] = await fromMigrations.sql<{ user: string; superuser: boolean }[]>`
      select current_user as user, r.rolsuper as superuser
      from pg_catalog.pg_roles r where r.rolname = current_user`
    appliedBy = who
    applied = await applyMigrations(fromMigrations.sql)
    await applySeed(fromMigrations.sql)
    fromSql = await buildScratch('sql')
  })

  afterAll(async () => {
    await fromMigrations?.close()
    await fromSql?.close()
  })

  it('apply on a fresh bootstrapped database as the non-superuser postgres', async () => {
    const local = (await listMigrations()).map((m) => m.version)
    expect(appliedBy).toEqual({ user: 'postgres', superuser: false })
    expect(local.length).toBeGreaterThan(0)
    expect(applied).toEqual(local)
    const [row] = await fromMigrations.sql`
      select pg_catalog.to_regclass('tollgate.plans') is not null as plans,
        pg_catalog.to_regclass('tollgate_private.usage_counters') is not null as counters`
    expect(row).toEqual({ plans: true, counters: true })
  })

  it('build the same tollgate schemas, privileges included, as the files in sql/', async () => {
    const migrations = await dumpTollgateSchemas(fromMigrations.superuserUrl)
    const declarative = await dumpTollgateSchemas(fromSql.superuserUrl)
    expect(migrations).toContain('CREATE TABLE tollgate.plans')
    expect(migrations).toContain('GRANT SELECT ON TABLE tollgate.plans TO anon;')
    expect(declarative).toBe(migrations)
  })

  it('change nothing when applied again', async () => {
    const before = await dumpTollgateSchemas(fromMigrations.superuserUrl)
    expect(await applyMigrations(fromMigrations.sql)).toEqual([])
    expect(await dumpTollgateSchemas(fromMigrations.superuserUrl)).toBe(before)
  })

  it('leave the seed unchanged when it runs again', async () => {
    const seeded = async () => {
      const [row] = await fromMigrations.sql<
        { plans: unknown[]; limits: unknown[]; coupons: unknown[] }[]
      >`
        select
          (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]') from tollgate.plans p) as plans,
          (select coalesce(jsonb_agg(to_jsonb(l) order by l.plan_id, l.metric), '[]')
            from tollgate.plan_limits l) as limits,
          (select coalesce(jsonb_agg(to_jsonb(c) order by c.code), '[]')
            from tollgate_private.coupons c) as coupons`
      if (!row) throw new Error('no row')
      return row
    }
    const first = await seeded()
    expect({
      plans: first.plans.length,
      limits: first.limits.length,
      coupons: first.coupons.length,
    }).toEqual({ plans: 3, limits: 15, coupons: 2 })
    expect(await applySeed(fromMigrations.sql)).toBe(true)
    expect(await seeded()).toEqual(first)
  })
})
