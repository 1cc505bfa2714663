import { Hono } from 'hono'
import {
  AdminCancelRequest,
  ApiError,
  envOf,
  parseJson,
  requireAdmin,
} from '../../../packages/core/src/index.ts'
import {
  cancelStripeSubscriptionNow,
  setStripeCancelAtPeriodEnd,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  applyStripeSubscription,
  dbFor,
  liveSubscriptionOf,
  setLocalSubscription,
  type BillingEnv,
} from '../db.ts'

/**
 * POST /admin/cancel {user_id, reason, at_period_end?}: an admin cancels a user's live subscription
 * at its provider (at once, unless at_period_end), audited with the admin and the reason.
 */
export const adminCancel = new Hono<BillingEnv>()

adminCancel.post('/admin/cancel', requireAdmin<BillingEnv>(), async (c) => {
  const env = envOf(c.env)
  const admin = c.get('user')
  const body = await parseJson(c, AdminCancelRequest)
  const db = dbFor(env)
  // SQL acts on the subscriber's id; every read keeps the admin's claims (admins read every row).
  const subscriber = { ...admin, id: body.user_id }
  const live = await liveSubscriptionOf(db, subscriber)
  if (!live) throw new ApiError('NOSUB', { message: 'The user has no live subscription' })
  const options = { note: `admin cancel: ${body.reason}`, reader: admin }
  const atPeriodEnd = body.at_period_end ?? false
  if (live.provider !== 'stripe') {
    // Razorpay bills nothing recurring and internal grants nobody bills: SQL alone.
    const subscription = await setLocalSubscription(db, subscriber, atPeriodEnd ? 'cancel' : 'end', options)
    return c.json({ subscription })
  }
  const stripe = stripeClientFor(env)
  const subscriptionId = String(live.provider_subscription_id)
  const updated = atPeriodEnd
    ? await setStripeCancelAtPeriodEnd(stripe, {
        subscriptionId,
        cancel: true,
        attempt: String(live.updated_at),
      })
    : await cancelStripeSubscriptionNow(stripe, subscriptionId)
  const subscription = await applyStripeSubscription(db, subscriber, updated, 'admin-cancel', {
    ...options,
    id: String(live.id),
  })
  return c.json({ subscription })
})
