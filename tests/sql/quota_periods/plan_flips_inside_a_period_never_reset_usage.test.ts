import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { consumeAt, counter, insertSub, updateSub } from './support.ts'

// A Stripe subscription started 10 days ago; prorated changes keep its billing_cycle_anchor.
const stripeSince10Days = { start: '-10 days', end: '1 month -10 days' }

describe('plan changes that keep the billing period (Stripe prorations)', () => {
  it('enterprise -> pro -> enterprise keeps the million used: the next call is refused (REVIEW H-2)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const id = await insertSub(tx, user.id, { plan: 'enterprise', ...stripeSince10Days })
      const { quota } = await counter(tx, user.id, 'api_calls')
      expect(await consumeAt(tx, user.id, 'api_calls', quota)).toMatchObject({
        allowed: true,
        remaining: 0,
      })
      await updateSub(tx, id, { plan: 'pro' })
      await updateSub(tx, id, { plan: 'enterprise' })
      expect(await consumeAt(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: false,
        used: quota,
      })
      expect(await counter(tx, user.id, 'api_calls')).toMatchObject({ used: quota, quota })
    })
  })

  it('ends any sequence of changes where the direct change to the last plan ends', async ({
    sql,
    users,
  }) => {
    const paths = [
      ['enterprise'],
      ['free', 'enterprise'],
      ['enterprise', 'pro', 'enterprise'],
      ['pro', 'enterprise', 'free', 'enterprise'],
      ['pro'],
      ['enterprise', 'pro'],
      ['free', 'enterprise', 'free', 'pro'],
    ]
    const ends: Record<string, unknown[][]> = {}
    for (const path of paths) {
      const user = await users.create()
      const last = path.at(-1) ?? 'pro'
      const state = await withRollback(sql, async (tx) => {
        // Carry-over into the period (free's unused 1000), then some use on pro.
        const id = await insertSub(tx, user.id, { plan: 'pro', ...stripeSince10Days })
        await consumeAt(tx, user.id, 'api_calls', 70_000)
        for (const plan of path) {
          // free: the subscription stops paying (unpaid), then pays again on the next change.
          if (plan === 'free') await updateSub(tx, id, { status: 'unpaid' })
          else await updateSub(tx, id, { plan, status: 'active' })
        }
        const { plan_id, used, quota, carried, period_start, period_end } = await counter(
          tx,
          user.id,
          'api_calls',
        )
        const [{ now } = { now: new Date() }] = await tx<{ now: Date }[]>`select now()`
        // The end relative to the transaction's now() (the anchor is now() - 10 days in each).
        const end = period_end ? period_end.getTime() - now.getTime() : null
        return [
          plan_id,
          used,
          quota - carried,
          carried,
          period_start.getTime() - now.getTime() < 0,
          end,
        ]
      })
      ;(ends[last] ??= []).push(state)
    }
    for (const [last, states] of Object.entries(ends)) {
      expect(
        new Set(states.map((s) => JSON.stringify(s))).size,
        `${last}: ${JSON.stringify(states)}`,
      ).toBe(1)
    }
    // The direct change keeps used and whatever carry-over the period brought in.
    expect(ends.enterprise?.[0]?.slice(0, 3)).toEqual(['enterprise', 70_000, 1_000_000])
    expect(ends.pro?.[0]?.slice(0, 3)).toEqual(['pro', 70_000, 100_000])
  })

  it('pro -> unpaid (free) -> active again keeps a metric without carry-over counted (REVIEW S-6)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await tx`insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
        values ('free', 'emails', 100, 'month', false), ('pro', 'emails', 1000, 'month', false)`
      const id = await insertSub(tx, user.id, { plan: 'pro', ...stripeSince10Days })
      expect(await consumeAt(tx, user.id, 'emails', 1000)).toMatchObject({
        allowed: true,
        remaining: 0,
      })
      await updateSub(tx, id, { status: 'unpaid' })
      expect(await counter(tx, user.id, 'emails')).toMatchObject({
        plan_id: 'free',
        used: 1000,
        quota: 100,
      })
      await updateSub(tx, id, { status: 'active' })
      expect(await consumeAt(tx, user.id, 'emails', 1)).toMatchObject({
        allowed: false,
        used: 1000,
      })
    })
  })
})

describe('a change that starts a new paid period', () => {
  it('starts used at 0 and carries what the old period left into an upgrade (seed 003)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const id = await insertSub(tx, user.id, { plan: 'pro', ...stripeSince10Days })
      await consumeAt(tx, user.id, 'api_calls', 1000)
      const before = await counter(tx, user.id, 'api_calls')
      // A billing-cycle reset: Stripe moves the anchor to now and bills the new period.
      await updateSub(tx, id, { plan: 'enterprise', start: '0', end: '1 month', anchor: '0' })
      const left = before.quota - 1000
      expect(await counter(tx, user.id, 'api_calls')).toMatchObject({
        plan_id: 'enterprise',
        used: 0,
        carried: left,
        quota: 1_000_000 + left,
      })
    })
  })

  it('carries a negative remainder as a debt', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const id = await insertSub(tx, user.id, { plan: 'enterprise', ...stripeSince10Days })
      await consumeAt(tx, user.id, 'api_calls', 500_000)
      await updateSub(tx, id, { plan: 'pro' })
      const onPro = await counter(tx, user.id, 'api_calls')
      expect(onPro).toMatchObject({ used: 500_000, quota: 100_000 + onPro.carried })
      // Enterprise again with a reset cycle: pro left its quota - 500,000, below zero.
      await updateSub(tx, id, { plan: 'enterprise', start: '0', end: '1 month', anchor: '0' })
      expect(await counter(tx, user.id, 'api_calls')).toMatchObject({
        used: 0,
        carried: onPro.quota - 500_000,
        quota: 1_000_000 + onPro.quota - 500_000,
      })
    })
  })
})
