import { describe, expect } from 'vitest'
import { pgError, withRollback, type Queryable } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { coupon, recordedPurchaseCheckout, subscribe } from './support.ts'

const apply = (
  q: Queryable,
  providerId: string,
  options: { userId?: string | null; payment?: string; amount: number; currency?: string; provider?: string },
) =>
  q<{ result: Record<string, unknown> }[]>`
    select tollgate_private.apply_purchase(${options.provider ?? 'stripe'}, ${providerId},
      ${options.userId ?? null}::uuid, ${options.payment ?? 'pi_test_1'}, ${options.amount}::bigint,
      ${options.currency ?? 'usd'}, 'test', now()) as result`.then((rows) => rows[0]!.result)

const stateOf = async (q: Queryable, userId: string) => ({
  purchases: await q`
    select product_id, quantity, provider, status, currency, amount_paid, amount_refunded, coupon_code
    from tollgate.purchases where user_id = ${userId}`,
  credits: await q`
    select metric, granted, remaining, source, (expires_at - p.paid_at) as valid_for
    from tollgate.credit_balances c join tollgate.purchases p on p.id = c.purchase_id
    where c.user_id = ${userId}`,
  notifications: await q`select kind, data ->> 'credits' as credits from tollgate.notifications
    where user_id = ${userId}`,
})

describe('apply_purchase', () => {
  it('writes the purchase, credits x quantity valid 365 days, the payment ref, the coupon and one notification', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await subscribe(tx, user.id, 'pro')
      const code = await coupon(tx, { percentOff: 15 })
      const checkout = await recordedPurchaseCheckout(tx, user.id, { quantity: 3, coupon: code })
      expect(checkout.amount).toBe(2295)

      const result = await apply(tx, checkout.providerId, { amount: 2295, payment: 'pi_test_paid' })
      expect(result).toMatchObject({ outcome: 'applied', user_id: user.id })

      expect(await stateOf(tx, user.id)).toEqual({
        purchases: [
          {
            product_id: 'api_calls_pack',
            quantity: 3,
            provider: 'stripe',
            status: 'paid',
            currency: 'usd',
            amount_paid: '2295',
            amount_refunded: '0',
            coupon_code: code,
          },
        ],
        credits: [
          { metric: 'api_calls', granted: '150000', remaining: '150000', source: 'purchase', valid_for: '365 days' },
        ],
        notifications: [{ kind: 'purchase_succeeded', credits: '150000' }],
      })
      const refs = await tx`
        select object_type, provider_id, local_id, details from tollgate_private.provider_refs
        where user_id = ${user.id} order by object_type`
      expect(refs).toEqual([
        expect.objectContaining({
          object_type: 'checkout_session',
          provider_id: checkout.providerId,
          local_id: result.purchase_id,
          details: expect.objectContaining({ kind: 'purchase', state: 'complete', product_id: 'api_calls_pack' }),
        }),
        {
          object_type: 'payment_intent',
          provider_id: 'pi_test_paid',
          local_id: result.purchase_id,
          details: { kind: 'purchase', purchase_id: result.purchase_id },
        },
      ])
      const [redemption] = await tx`
        select status, checkout_ref from tollgate_private.coupon_redemptions where user_id = ${user.id}`
      expect(redemption).toEqual({ status: 'redeemed', checkout_ref: checkout.checkout_id })
    })
  })

  it('credits of a product without credits_valid_days never expire', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await tx`update tollgate.products set credits_valid_days = null where id = 'api_calls_pack'`
      const checkout = await recordedPurchaseCheckout(tx, user.id)
      await apply(tx, checkout.providerId, { amount: 1000 })
      expect(await tx`select expires_at from tollgate.credit_balances where user_id = ${user.id}`).toEqual([
        { expires_at: null },
      ])
    })
  })

  it('a second call (another path, or the same) is a no-op answering the same purchase', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const checkout = await recordedPurchaseCheckout(tx, user.id, { provider: 'razorpay' })
      const first = await apply(tx, checkout.providerId, { provider: 'razorpay', payment: 'pay_A', amount: 1000 })
      const state = await stateOf(tx, user.id)
      const second = await apply(tx, checkout.providerId, {
        provider: 'razorpay',
        payment: 'pay_A',
        amount: 1000,
        userId: user.id,
      })
      expect(second).toEqual({ outcome: 'duplicate', purchase_id: first.purchase_id, user_id: user.id })
      expect(await stateOf(tx, user.id)).toEqual(state)
      expect(state.credits).toHaveLength(1)
    })
  })

  it('refuses another user (NOTYR) and a checkout Tollgate does not know (NOTFD)', async ({ sql, user, users }) => {
    const other = await users.create()
    await withRollback(sql, async (tx) => {
      const checkout = await recordedPurchaseCheckout(tx, user.id)
      const foreign = await pgError(tx.savepoint((s) =>
        apply(s, checkout.providerId, { amount: 1000, userId: other.id })))
      expect(foreign.code).toBe('NOTYR')
      const unknown = await pgError(tx.savepoint((s) => apply(s, 'cs_test_unknown', { amount: 1000, userId: user.id })))
      expect(unknown.code).toBe('NOTFD')
      expect(await apply(tx, 'cs_test_unknown', { amount: 1000 })).toMatchObject({ outcome: 'unlinked' })
      expect((await stateOf(tx, user.id)).purchases).toEqual([])
    })
  })

  it('grants nothing for a payment of another amount or currency: PAYMM for verify, unlinked and audited for a webhook', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const checkout = await recordedPurchaseCheckout(tx, user.id, { quantity: 2 })
      const verify = await pgError(tx.savepoint((s) =>
        apply(s, checkout.providerId, { amount: 1000, userId: user.id })))
      expect(verify.code).toBe('PAYMM')
      const currency = await pgError(tx.savepoint((s) =>
        apply(s, checkout.providerId, { amount: 2000, currency: 'eur', userId: user.id })))
      expect(currency.code).toBe('PAYMM')

      const hook = await apply(tx, checkout.providerId, { amount: 1999, payment: 'pi_short' })
      expect(hook).toMatchObject({ outcome: 'unlinked', mismatch: true, error: expect.stringContaining('paid 1999 usd') })
      // Delivered again: still nothing, audited once.
      await apply(tx, checkout.providerId, { amount: 1999, payment: 'pi_short' })
      expect(await stateOf(tx, user.id)).toEqual({ purchases: [], credits: [], notifications: [] })
      const audit = await tx`select table_name, reason from tollgate_private.audit_log where user_id = ${user.id}`
      expect(audit).toEqual([
        { table_name: 'purchases', reason: expect.stringMatching(/^stripe:test payment mismatch: paid 1999 usd/) },
      ])
    })
  })
})

describe('apply_purchase from two connections at once', () => {
  it('writes one purchase and one grant: the second waits on the checkout, then finds it', async ({ sql, user }) => {
    const checkout = await recordedPurchaseCheckout(sql, user.id, { quantity: 2 })
    const first = await sql.reserve()
    const second = await sql.reserve()
    try {
      await first`begin`
      await second`begin`
      const a = await apply(first, checkout.providerId, { amount: 2000 })
      // The second blocks on the checkout's row lock until the first commits.
      const pending = apply(second, checkout.providerId, { amount: 2000, userId: user.id })
      const raced = await Promise.race([pending.then(() => 'done'), new Promise((r) => setTimeout(() => r('waiting'), 300))])
      expect(raced).toBe('waiting')
      await first`commit`
      const b = await pending
      await second`commit`
      expect(a).toMatchObject({ outcome: 'applied' })
      expect(b).toEqual({ outcome: 'duplicate', purchase_id: a.purchase_id, user_id: user.id })
    } finally {
      await first`rollback`.catch(() => undefined)
      await second`rollback`.catch(() => undefined)
      first.release()
      second.release()
    }
    const state = await stateOf(sql, user.id)
    expect(state.purchases).toHaveLength(1)
    expect(state.credits).toEqual([expect.objectContaining({ granted: '100000' })])
    expect(state.notifications).toHaveLength(1)
  })
})
