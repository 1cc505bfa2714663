import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import { checkoutOrder, counterOf, verifyPayment } from './support.ts'

const consumeNow = async (tx: Tx, userId: string, amount: number) => {
  const [row] = await tx<{ answer: { allowed: boolean; used: number } }[]>`
    select tollgate_private.consume_usage(
      ${userId}::uuid, 'api_calls', ${amount}::bigint, null, now()) as answer`
  return row?.answer
}

// The pro month runs from the payment (the billing cycle anchor), compared in SQL for microseconds.
const periodFollowsThePayment = async (tx: Tx, userId: string): Promise<boolean> => {
  const [row] = await tx<{ ok: boolean }[]>`
    select c.period_start = now()
      and c.period_end = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' as ok
    from tollgate_private.usage_counters c
    where c.user_id = ${userId}::uuid and c.metric = 'api_calls'`
  return row?.ok ?? false
}

describe('a free user who pays a Razorpay order for pro', () => {
  it('gets 100000 plus the free calls left this month (1000 - 300), usage from zero', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consumeNow(tx, user.id, 300)).toMatchObject({ allowed: true, used: 300 })
      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'free',
        used: '300',
        quota: '1000',
      })

      const order = await checkoutOrder(tx, user.id)
      await verifyPayment(tx, user.id, order.orderId)

      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'pro',
        used: '0',
        quota: '100700',
        base_quota: '100000',
      })
      expect(await periodFollowsThePayment(tx, user.id)).toBe(true)
      expect(await consumeNow(tx, user.id, 100700)).toMatchObject({ allowed: true, used: 100700 })
      expect(await consumeNow(tx, user.id, 1)).toMatchObject({ allowed: false, used: 100700 })
    })
  })

  it('gets all 1000 free calls on top when they never used any', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect(await counterOf(tx, user.id)).toBeUndefined()
      const order = await checkoutOrder(tx, user.id)
      await verifyPayment(tx, user.id, order.orderId)
      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'pro',
        used: '0',
        quota: '101000',
        base_quota: '100000',
      })
    })
  })
})
