import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

type Described = { object: string; described: boolean }

const has = (text: string | null): boolean => (text ?? '').trim() !== ''

describe('comments', () => {
  it('describe every schema, table, column, view, view column and function of ours', async () => {
    const objects = await sql<{ object: string; description: string | null }[]>`
      select 'schema ' || format('%I', n.nspname) as object,
        pg_catalog.obj_description(n.oid, 'pg_namespace') as description
      from pg_catalog.pg_namespace n
      where n.nspname in ('tollgate', 'tollgate_private')
      union all
      select case when c.relkind in ('v', 'm') then 'view ' else 'table ' end
          || format('%I.%I', n.nspname, c.relname),
        pg_catalog.obj_description(c.oid, 'pg_class')
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('tollgate', 'tollgate_private') and c.relkind in ('r', 'p', 'v', 'm', 'f')
      union all
      select case when c.relkind in ('v', 'm') then 'view column ' else 'column ' end
          || format('%I.%I.%I', n.nspname, c.relname, a.attname),
        pg_catalog.col_description(c.oid, a.attnum)
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('tollgate', 'tollgate_private') and c.relkind in ('r', 'p', 'v', 'm', 'f')
        and a.attnum > 0 and not a.attisdropped
      union all
      select 'function ' || p.oid::pg_catalog.regprocedure::text,
        pg_catalog.obj_description(p.oid, 'pg_proc')
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('tollgate', 'tollgate_private')
      order by 1`
    const checked: Described[] = objects.map((o) => ({
      object: o.object,
      described: has(o.description),
    }))
    // The query reaches every kind of object it checks.
    for (const kind of ['schema', 'table', 'column', 'view', 'view column', 'function']) {
      expect(checked.some((c) => c.object.startsWith(`${kind} `))).toBe(true)
    }
    expect(checked.filter((c) => !c.described).map((c) => c.object)).toEqual([])
  })
})
