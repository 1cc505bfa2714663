import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import { checkoutOrder, counterOf, invoicesOf, subscriptionsOf, verifyPayment } from './support.ts'

const moments = async (tx: Tx, userId: string) => {
  const [row] = await tx<{ start: Date; end: Date; nextEnd: Date; nextGraceEnd: Date }[]>`
    select current_period_start as start, current_period_end as end,
      (current_period_end at time zone 'UTC' + interval '1 month') at time zone 'UTC' as "nextEnd",
      (current_period_end at time zone 'UTC' + interval '1 month') at time zone 'UTC'
        + interval '3 days' as "nextGraceEnd"
    from tollgate.subscriptions where user_id = ${userId}::uuid and status = 'active'`
  if (!row) throw new Error('no active subscription')
  return row
}

describe('paying a second order for the same plan (Razorpay renewal)', () => {
  it('extends the same subscription by one month from the end of the paid period', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const first = await checkoutOrder(tx, user.id)
      const applied = await verifyPayment(tx, user.id, first.orderId)
      const paid = await moments(tx, user.id)

      const second = await checkoutOrder(tx, user.id)
      expect(second).toMatchObject({ kind: 'renewal', amount: 2900 })
      const renewed = await verifyPayment(tx, user.id, second.orderId)

      expect(renewed).toMatchObject({
        outcome: 'applied',
        subscription_id: applied.subscription_id,
      })
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        {
          id: applied.subscription_id,
          plan_id: 'pro',
          status: 'active',
          // The paid period is the month just bought; quota months keep their anchor.
          current_period_start: paid.end,
          current_period_end: paid.nextEnd,
          billing_cycle_anchor: paid.start,
          cancel_at_period_end: false,
        },
      ])
      expect(await invoicesOf(tx, user.id)).toMatchObject([
        {
          number: first.orderId,
          period_start: paid.start,
          period_end: paid.end,
          amount_paid: '2900',
        },
        {
          number: second.orderId,
          period_start: paid.end,
          period_end: paid.nextEnd,
          amount_paid: '2900',
        },
      ])
      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'pro',
        valid_until: paid.nextGraceEnd,
      })
    })
  })

  it('starts the new month at the payment when the paid period has already ended', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const first = await checkoutOrder(tx, user.id)
      const applied = await verifyPayment(tx, user.id, first.orderId)
      // The month ran out ten days ago and maintenance marked it past_due (still live: grace).
      await tx`
        update tollgate.subscriptions
        set current_period_start = now() - interval '40 days',
            current_period_end = now() - interval '10 days', status = 'past_due'
        where id = ${applied.subscription_id ?? ''}::uuid`

      const second = await checkoutOrder(tx, user.id)
      expect(second.kind).toBe('renewal')
      await verifyPayment(tx, user.id, second.orderId)

      const [row] = await tx<{ status: string; ok: boolean }[]>`
        select status,
          current_period_end = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC'
            as ok
        from tollgate.subscriptions where id = ${applied.subscription_id ?? ''}::uuid`
      expect(row).toEqual({ status: 'active', ok: true })
      const [invoice] = await tx<{ ok: boolean }[]>`
        select period_start = now()
          and period_end = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' as ok
        from tollgate.invoices where number = ${second.orderId}`
      expect(invoice).toEqual({ ok: true })
      expect(await subscriptionsOf(tx, user.id)).toHaveLength(1)
    })
  })
})

describe('paying an order for another plan once the paid period has run out', () => {
  it('ends the old Razorpay subscription and starts the new plan for one month from now', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const pro = await checkoutOrder(tx, user.id)
      const proApplied = await verifyPayment(tx, user.id, pro.orderId)
      // The paid month ended yesterday: pro is in its grace days (past_due), nothing paid runs.
      await tx`
        update tollgate.subscriptions
        set current_period_start = now() - interval '31 days',
            current_period_end = now() - interval '1 day', status = 'past_due'
        where id = ${proApplied.subscription_id ?? ''}::uuid`

      const enterprise = await checkoutOrder(tx, user.id, { planId: 'enterprise' })
      expect(enterprise).toMatchObject({ kind: 'new', amount: 9900 })
      const switched = await verifyPayment(tx, user.id, enterprise.orderId)

      const subscriptions = await subscriptionsOf(tx, user.id)
      expect(subscriptions).toMatchObject([
        { id: proApplied.subscription_id, plan_id: 'pro', status: 'canceled' },
        {
          id: switched.subscription_id,
          plan_id: 'enterprise',
          status: 'active',
          provider: 'razorpay',
        },
      ])
      const [row] = await tx<{ ok: boolean }[]>`
        select current_period_start = now()
          and current_period_end
            = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC'
          and ended_at is null as ok
        from tollgate.subscriptions where id = ${switched.subscription_id ?? ''}::uuid`
      expect(row).toEqual({ ok: true })
      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'enterprise',
        base_quota: '1000000',
      })
    })
  })
})
