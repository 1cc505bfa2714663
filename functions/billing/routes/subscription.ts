import { Hono, type Context } from 'hono'
import {
  ApiError,
  CancelRequest,
  envOf,
  parseJson,
  PlanChangeRequest,
} from '../../../packages/core/src/index.ts'
import {
  changeStripePlan,
  setStripeCancelAtPeriodEnd,
  stripeClientFor,
  stripePriceOf,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  applyStripeSubscription,
  dbFor,
  liveSubscriptionOf,
  preparePlanChange,
  setLocalSubscription,
  type BillingEnv,
} from '../db.ts'

/** POST /change-plan, /cancel and /resume: changes to the caller's live subscription. */
export const subscription = new Hono<BillingEnv>()

subscription.post('/change-plan', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, PlanChangeRequest)
  const stripe = stripeClientFor(env)
  const db = dbFor(env)
  const change = await preparePlanChange(db, user, body.plan_id)
  const price = stripePriceOf(change.plan)
  const updated = await changeStripePlan(stripe, {
    userId: user.id,
    planId: change.plan.id,
    subscriptionId: String(change.live.provider_subscription_id),
    price,
    attempt: String(change.live.updated_at),
  })
  // SQL refuses (PROVR) an answer not on the requested price: a plan Stripe does not bill.
  return c.json({
    subscription: await applyStripeSubscription(db, user, updated, 'change-plan', {
      expectedPrice: price,
    }),
  })
})

subscription.post('/cancel', async (c) => {
  const body = await parseJson(c, CancelRequest, { allowEmpty: true })
  // Every cancellation request is audited with the user's reason, when they give one.
  return cancelOrResume(c, true, body.reason ? `user cancel: ${body.reason}` : 'user cancel')
})
subscription.post('/resume', (c) => cancelOrResume(c, false))

const cancelOrResume = async (
  c: Context<BillingEnv>,
  cancel: boolean,
  note?: string,
): Promise<Response> => {
  const env = envOf(c.env)
  const user = c.get('user')
  const db = dbFor(env)
  const action = cancel ? 'cancel' : 'resume'
  const live = await liveSubscriptionOf(db, user)
  if (!live) throw new ApiError('NOSUB')
  // A subscription no provider bills changes in SQL alone.
  if (live.provider !== 'stripe') {
    return c.json({ subscription: await setLocalSubscription(db, user, action, { note }) })
  }
  const updated = await setStripeCancelAtPeriodEnd(stripeClientFor(env), {
    subscriptionId: String(live.provider_subscription_id),
    cancel,
    attempt: String(live.updated_at),
  })
  return c.json({ subscription: await applyStripeSubscription(db, user, updated, action, { note }) })
}
