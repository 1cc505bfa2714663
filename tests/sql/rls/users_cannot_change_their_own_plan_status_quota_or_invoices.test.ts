import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, pgError, type Sql, type Tx } from '../../helpers/db.ts'
import { createRlsFixture, dropRlsFixture, type RlsFixture } from './fixture.ts'

let fixture: RlsFixture
it.beforeAll(async ({ sql }) => {
  fixture = await createRlsFixture(sql)
})
it.afterAll(({ sql }) => dropRlsFixture(sql, fixture))

// The signed-in user with a live pro subscription and an open invoice.
const asSubscriber = <T>(sql: Sql, fn: (tx: Tx) => T) => asUser(sql, fixture.other, fn)

const refusal = async (sql: Sql, fn: (tx: Tx) => unknown): Promise<string> =>
  (await pgError(asSubscriber(sql, fn))).code

describe('a signed-in user', () => {
  it('cannot move their subscription to another plan (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          update tollgate.subscriptions set plan_id = 'enterprise'
          where id = ${fixture.subscriptions.other}`,
      ),
    ).toBe('42501')
  })

  it('cannot change the status of their subscription (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          update tollgate.subscriptions set status = 'active', current_period_end = now() + interval '10 years'
          where id = ${fixture.subscriptions.other}`,
      ),
    ).toBe('42501')
  })

  it('cannot give themselves a subscription (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          insert into tollgate.subscriptions (user_id, plan_id, status, provider)
          values (${fixture.other.id}, 'enterprise', 'active', 'internal')`,
      ),
    ).toBe('42501')
  })

  it('cannot cancel away their subscription row (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`delete from tollgate.subscriptions where id = ${fixture.subscriptions.other}`,
      ),
    ).toBe('42501')
  })

  it('cannot mark their invoice paid (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          update tollgate.invoices set status = 'paid', amount_paid = amount_due, paid_at = now()
          where id = ${fixture.invoices.other}`,
      ),
    ).toBe('42501')
  })

  it('cannot write or delete invoices (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          insert into tollgate.invoices (user_id, provider, status, currency)
          values (${fixture.other.id}, 'internal', 'paid', 'usd')`,
      ),
    ).toBe('42501')
    expect(
      await refusal(
        sql,
        (tx) => tx`delete from tollgate.invoices where id = ${fixture.invoices.other}`,
      ),
    ).toBe('42501')
  })

  it("cannot raise their plan's quota (42501)", async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`update tollgate.plan_limits set quota = -1 where plan_id = 'pro'`,
      ),
    ).toBe('42501')
  })

  it('cannot reset or raise their usage counters (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          update tollgate_private.usage_counters set used = 0, quota = -1
          where user_id = ${fixture.other.id}`,
      ),
    ).toBe('42501')
  })

  it('cannot re-sync their counters at a time of their choosing (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          select tollgate_private.sync_usage_counters(${fixture.other.id}::uuid, now() + interval '1 month')`,
      ),
    ).toBe('42501')
    // Refused at the call, not only by a table inside it that a later change might open up.
    const [row] = await sql<{ executable: boolean }[]>`
      select pg_catalog.has_function_privilege(
        'authenticated', 'tollgate_private.sync_usage_counters(uuid, timestamptz)', 'execute'
      ) as executable`
    expect(row).toEqual({ executable: false })
  })

  it('cannot consume at a time of their choosing through the private consume_usage (42501)', async ({
    sql,
  }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          select tollgate_private.consume_usage(
            ${fixture.other.id}::uuid, 'api_calls', 1, null, now() + interval '1 month')`,
      ),
    ).toBe('42501')
  })

  it('cannot give back counted usage through release_usage (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          select tollgate_private.release_usage(${fixture.other.id}::uuid, 'projects', 1, null, now())`,
      ),
    ).toBe('42501')
  })

  it('cannot run maintenance at a time of their choosing (42501)', async ({ sql }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`select tollgate_private.run_maintenance(now() + interval '10 years')`,
      ),
    ).toBe('42501')
  })

  it("cannot consume another user's quota through the service-role RPC (42501)", async ({
    sql,
  }) => {
    expect(
      await refusal(
        sql,
        (tx) => tx`
          select tollgate.service_role_consume_usage(${fixture.owner.id}::uuid, 'api_calls', 1000, null)`,
      ),
    ).toBe('42501')
  })

  it('can call consume_usage_of_caller, which takes no time argument', async ({ sql }) => {
    const [signature] = await sql<{ args: string; executable: boolean; overloads: number }[]>`
      select pg_catalog.pg_get_function_identity_arguments(p.oid) as args,
        pg_catalog.has_function_privilege('authenticated', p.oid, 'execute') as executable,
        (select count(*)::int from pg_catalog.pg_proc o
          where o.pronamespace = p.pronamespace and o.proname = p.proname) as overloads
      from pg_catalog.pg_proc p
      where p.oid = 'tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb)'::regprocedure`
    expect(signature).toEqual({
      args: 'metric text, amount bigint, idempotency_key text, metadata jsonb',
      executable: true,
      overloads: 1,
    })

    const [row] = await asUser(
      sql,
      fixture.owner,
      (tx) => tx<{ answer: Record<string, unknown>; now: Date }[]>`
        select tollgate_private.consume_usage_of_caller('api_calls', 1, null) as answer, now() as now`,
    )
    if (!row) throw new Error('no answer')
    // The owner is on free (their subscription is over): calendar months, 1 of 1000 used.
    const monthEnd = new Date(Date.UTC(row.now.getUTCFullYear(), row.now.getUTCMonth() + 1, 1))
    expect({ ...row.answer, period_end: new Date(String(row.answer.period_end)) }).toEqual({
      allowed: true,
      metric: 'api_calls',
      used: 1,
      quota: 1000,
      remaining: 999,
      period_end: monthEnd,
      credits_remaining: 0,
      credits_drawn: 0,
    })
  })
})
