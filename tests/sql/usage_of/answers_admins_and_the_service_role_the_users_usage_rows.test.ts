import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asAdmin, asServiceRole, withRollback, type Tx, type Sql } from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'
import { subscribe } from '../consume_usage/support.ts'

type UsageRow = {
  user_id: string
  metric: string
  period: string
  period_start: Date
  period_end: Date | null
  used: string
  quota: string
  remaining: string | null
}

const usageOf = async (tx: Tx, userId: string): Promise<UsageRow[]> => {
  await asPostgrestRequest(tx, 'POST', '/rpc/usage_of')
  return tx<UsageRow[]>`select * from tollgate.usage_of(${userId}::uuid)`
}

// What the usage rule computes for the user at the transaction's now(), read by the owner.
const computed = (sql: Sql, userId: string): Promise<UsageRow[]> =>
  withRollback(
    sql,
    (tx) => tx<UsageRow[]>`
    select * from tollgate_private.usage_rows(${userId}::uuid, now())`,
  )

describe('tollgate.usage_of', () => {
  it.for(['admin', 'service_role'] as const)(
    "answers %s one user's rows, the columns and values of tollgate.usage",
    async (caller, { sql, user, users, admin }) => {
      const other = await users.create()
      await subscribe(sql, user.id, 'pro')
      const consume = (userId: string, amount: number) =>
        sql`
          select tollgate_private.consume_usage(${userId}::uuid, 'api_calls', ${amount}, null, now())`
      await consume(user.id, 12)
      await consume(other.id, 5)

      const read = async (tx: Tx) => ({
        fromView: await tx<UsageRow[]>`
          select * from tollgate.usage where user_id = ${user.id}::uuid order by metric`,
        rows: await usageOf(tx, user.id),
      })
      const { rows, fromView } =
        caller === 'admin' ? await asAdmin(sql, admin, read) : await asServiceRole(sql, read)
      const expected = await computed(sql, user.id)
      expect(rows.map((row) => [row.metric, row.used])).toEqual([
        ['api_calls', '12'],
        ['api_keys', '0'],
        ['projects', '0'],
        ['requests', '0'],
        ['storage_gb', '0'],
      ])
      expect(rows.every((row) => row.user_id === user.id)).toBe(true)
      expect(rows).toEqual(fromView)
      expect(rows.map(({ period_start: _, ...row }) => row)).toEqual(
        expected.map(({ period_start: _, ...row }) => row),
      )
    },
  )

  it('has exactly the columns of the tollgate.usage view', async ({ sql }) => {
    const columns = await sql<{ view: string[]; fn: string[] }[]>`
      select
        array(select a.attname::text from pg_catalog.pg_attribute a
          where a.attrelid = 'tollgate.usage'::regclass and a.attnum > 0 order by a.attnum) as view,
        array(select a.attname::text from pg_catalog.pg_attribute a
          join pg_catalog.pg_type t on t.typrelid = a.attrelid
          join pg_catalog.pg_proc p on p.prorettype = t.oid
          where p.oid = 'tollgate.usage_of(uuid)'::regprocedure and a.attnum > 0
          order by a.attnum) as fn`
    expect(columns[0]?.fn).toEqual(columns[0]?.view)
  })
})
