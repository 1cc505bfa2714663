import { createUser } from '../../helpers/db.ts'
import { signToken, type BillingHarness, type Caller } from '../../helpers/billing.ts'

/** A signed-in admin (app_metadata.role = admin). */
export const signInAdmin = async (h: BillingHarness): Promise<Caller> => {
  const user = await createUser(h.sql, { admin: true })
  return { ...user, token: await signToken(user.claims) }
}

/**
 * A paid api_calls_pack purchase of `userId` (committed), as the purchase helper records one: the
 * purchase, its 50,000 credits and the provider payment ref; the payment exists at the fake.
 */
export const purchasePaidAt = async (
  h: BillingHarness,
  userId: string,
  provider: 'stripe' | 'razorpay' = 'stripe',
): Promise<{ purchaseId: string; paymentId: string; amount: number }> => {
  const amount = provider === 'stripe' ? 1000 : 100000
  const currency = provider === 'stripe' ? 'usd' : 'inr'
  let paymentId: string
  if (provider === 'stripe') {
    paymentId = h.stripe.addPayment({ amount, currency }).paymentIntent
  } else {
    paymentId = h.razorpay.pay(`order_${userId.replaceAll('-', '').slice(0, 14)}`, {
      amount,
      currency: 'INR',
    }).razorpay_payment_id
  }
  const [purchase] = await h.sql<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid, checkout_id)
    values (${userId}, 'api_calls_pack', ${provider}, ${currency}, ${amount}, gen_random_uuid())
    returning id`
  await h.sql`select tollgate_private.grant_credits(${userId}, 'api_calls', 50000, null, 'purchase', ${purchase!.id})`
  await h.sql`
    insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, details)
    values (${provider}, ${provider === 'stripe' ? 'payment_intent' : 'payment'}, ${paymentId},
      ${purchase!.id}, ${userId}, ${h.sql.json({ purchase_id: purchase!.id, kind: 'purchase' })})`
  return { purchaseId: purchase!.id, paymentId, amount }
}

/** The purchase's status, amount refunded and credits left. */
export const purchaseOf = async (h: BillingHarness, purchaseId: string) => {
  const [row] = await h.sql<{ status: string; amount_refunded: number; remaining: number }[]>`
    select p.status, p.amount_refunded::int, coalesce(sum(g.remaining), 0)::int as remaining
    from tollgate.purchases p left join tollgate.credit_balances g on g.purchase_id = p.id
    where p.id = ${purchaseId} group by p.id`
  return row!
}
