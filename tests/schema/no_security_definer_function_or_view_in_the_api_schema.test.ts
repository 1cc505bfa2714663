import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('the API schema tollgate', () => {
  it('has no security definer function (they live in tollgate_private)', async () => {
    const functions = await sql<{ name: string; definer: boolean }[]>`
      select p.oid::pg_catalog.regprocedure::text as name, p.prosecdef as definer
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'tollgate'
      order by 1`
    expect(functions.map((f) => f.name)).toContain('tollgate.consume_usage(text,bigint,text,jsonb)')
    expect(functions.filter((f) => f.definer).map((f) => f.name)).toEqual([])
  })

  it('has only security_invoker views', async () => {
    const views = await sql<{ name: string; invoker: boolean }[]>`
      select format('%I.%I', n.nspname, c.relname) as name,
        coalesce(c.reloptions @> array['security_invoker=true'], false) as invoker
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'tollgate' and c.relkind in ('v', 'm')
      order by 1`
    expect(views.map((v) => v.name)).toContain('tollgate.usage')
    expect(views.filter((v) => !v.invoker).map((v) => v.name)).toEqual([])
  })
})
