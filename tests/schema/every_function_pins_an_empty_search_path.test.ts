import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

// Procedures that commit between their steps. PostgreSQL forbids transaction control in a
// procedure with a SET clause (or security definer), so these cannot pin search_path: they name
// everything with its schema and leave the work to pinned functions.
const COMMITTING_PROCEDURES = ['tollgate_private.maintain(timestamp with time zone,integer)']

describe('functions', () => {
  it("pin search_path to '' in tollgate and tollgate_private", async () => {
    const functions = await sql<{ name: string; config: string[] | null }[]>`
      select p.oid::pg_catalog.regprocedure::text as name, p.proconfig as config
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('tollgate', 'tollgate_private')
      order by 1`
    expect(functions.length).toBeGreaterThan(0)
    const unpinned = functions.filter(
      (f) =>
        !(f.config ?? []).includes('search_path=""') && !COMMITTING_PROCEDURES.includes(f.name),
    )
    expect(unpinned.map((f) => `${f.name} ${JSON.stringify(f.config)}`)).toEqual([])
  })

  it('leave unpinned only committing procedures that run as their caller, whom no API role can be', async () => {
    const procedures = await sql<{ name: string }[]>`
      select p.oid::pg_catalog.regprocedure::text as name
      from pg_catalog.pg_proc p
      where p.oid::pg_catalog.regprocedure::text in ${sql(COMMITTING_PROCEDURES)}
        and p.prokind = 'p'
        and not p.prosecdef
        and p.proconfig is null
        and not pg_catalog.has_function_privilege('anon', p.oid, 'execute')
        and not pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
        and not pg_catalog.has_function_privilege('service_role', p.oid, 'execute')
      order by 1`
    expect(procedures.map((p) => p.name)).toEqual(COMMITTING_PROCEDURES)
  })
})
