import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, nowSeconds, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('a subscription superseded by one applied from an API answer (verify-payment)', () => {
  it('is ended at that moment, not left without an end (no event time to take it from)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const T = nowSeconds() - 3600
      const older = subscriptionFixture(world, { periodStart: T, created: T })
      await applyEvent(tx, makeStripeEvent('customer.subscription.created', older, { created: T }))
      const newer = { ...subscriptionFixture(world, { periodStart: T + 60, created: T + 60 }), id: 'sub_newer_by_verify' }
      await tx`select tollgate_private.apply_stripe_subscription(${JSON.stringify(newer)}::text::jsonb, null, 'api:verify', ${world.userId}::uuid)`
      const rows = await tx<{ status: string; ended: boolean }[]>`
        select status, ended_at is not null and canceled_at is not null as ended
        from tollgate.subscriptions where user_id = ${world.userId}::uuid order by created_at`
      expect(rows).toEqual([
        { status: 'canceled', ended: true },
        { status: 'active', ended: false },
      ])
    })
  })
})
