import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('functions', () => {
  it("pin search_path to '' in tollgate and tollgate_private", async () => {
    const functions = await sql<{ name: string; config: string[] | null }[]>`
      select p.oid::pg_catalog.regprocedure::text as name, p.proconfig as config
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('tollgate', 'tollgate_private')
      order by 1`
    expect(functions.length).toBeGreaterThan(0)
    const unpinned = functions.filter((f) => !(f.config ?? []).includes('search_path=""'))
    expect(unpinned.map((f) => `${f.name} ${JSON.stringify(f.config)}`)).toEqual([])
  })
})
