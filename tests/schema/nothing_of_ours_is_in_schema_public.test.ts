import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { applyMigrations, applySeed } from '../../packages/db/src/migrate.ts'
import { openScratch, type Built } from './scratch.ts'

const external = inject('externalDatabase')

// Everything that can live in (or be granted on) schema public, as readable names.
const publicContents = async (built: Built): Promise<string[]> => {
  const rows = await built.sql<{ object: string }[]>`
    select 'schema acl ' || coalesce(n.nspacl::text, 'default') as object
    from pg_catalog.pg_namespace n where n.nspname = 'public'
    union all
    select 'relation ' || c.relname || ' (' || c.relkind::text || ')'
    from pg_catalog.pg_class c where c.relnamespace = 'public'::regnamespace
    union all
    select 'function ' || p.oid::pg_catalog.regprocedure::text
    from pg_catalog.pg_proc p where p.pronamespace = 'public'::regnamespace
    union all
    select 'type ' || t.typname
    from pg_catalog.pg_type t where t.typnamespace = 'public'::regnamespace
    union all
    select 'extension ' || e.extname
    from pg_catalog.pg_extension e where e.extnamespace = 'public'::regnamespace
    union all
    select 'operator ' || o.oid::pg_catalog.regoperator::text
    from pg_catalog.pg_operator o where o.oprnamespace = 'public'::regnamespace
    union all
    select 'collation ' || c.collname
    from pg_catalog.pg_collation c where c.collnamespace = 'public'::regnamespace
    union all
    select 'default privileges ' || d.defaclobjtype::text || ' ' || d.defaclacl::text
    from pg_catalog.pg_default_acl d where d.defaclnamespace = 'public'::regnamespace
    order by 1`
  return rows.map((r) => r.object)
}

describe.skipIf(external)('schema public', () => {
  let built: Built
  let before: string[] = []
  let after: string[] = []

  beforeAll(async () => {
    built = await openScratch()
    before = await publicContents(built)
    await applyMigrations(built.sql)
    await applySeed(built.sql)
    after = await publicContents(built)
  })

  afterAll(() => built?.close())

  it('is left exactly as it was by the migrations and the seed', () => {
    expect(before.some((o) => o.startsWith('schema acl '))).toBe(true)
    expect(after).toEqual(before)
  })
})
