import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('row-level security', () => {
  it('is enabled on every table of tollgate and tollgate_private', async () => {
    const tables = await sql<{ name: string; rls: boolean }[]>`
      select format('%I.%I', n.nspname, c.relname) as name, c.relrowsecurity as rls
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('tollgate', 'tollgate_private') and c.relkind in ('r', 'p')
      order by 1`
    expect(tables.map((t) => t.name)).toContain('tollgate.subscriptions')
    expect(tables.map((t) => t.name)).toContain('tollgate_private.usage_counters')
    expect(tables.filter((t) => !t.rls).map((t) => t.name)).toEqual([])
  })
})
