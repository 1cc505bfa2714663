import { Hono } from 'hono'
import { DeleteAccountRequest, envOf, parseJson } from '../../../packages/core/src/index.ts'
import {
  cancelStripeSubscriptionForDeletion,
  closeStripeCheckoutsForDeletion,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  dbFor,
  deleteAccount,
  openStripeCheckoutsOf,
  stripeSubscriptionsToCancel,
  type BillingEnv,
} from '../db.ts'

/**
 * POST /delete-account {confirm: true}: expires the caller's open Stripe checkouts and cancels their
 * Stripe subscriptions at once, then forgets them in Tollgate (invoices and purchases kept without
 * personal data).
 */
export const deleteAccountRoute = new Hono<BillingEnv>()

deleteAccountRoute.post('/delete-account', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  await parseJson(c, DeleteAccountRequest)
  const db = dbFor(env)
  // Stripe first: when it fails (PROVR) nothing is deleted, and a retry starts over. Open
  // checkouts are expired, so none starts billing later; one paid meanwhile is cancelled too.
  const [sessions, live] = await Promise.all([
    openStripeCheckoutsOf(db, user),
    stripeSubscriptionsToCancel(db, user),
  ])
  let subscriptions = live
  let expired: string[] = []
  if (sessions.length > 0 || live.length > 0) {
    const stripe = stripeClientFor(env)
    const closed = await closeStripeCheckoutsForDeletion(stripe, sessions)
    expired = closed.expired
    subscriptions = [...new Set([...live, ...closed.subscriptions])]
    for (const id of subscriptions) await cancelStripeSubscriptionForDeletion(stripe, id)
  }
  // Coupon uses stay counted unless Stripe said their checkout closed unpaid (expired).
  const forgotten = await deleteAccount(db, user, subscriptions, expired)
  return c.json({
    ...forgotten,
    providers: {
      stripe: { subscriptions_canceled: subscriptions.length, checkouts_closed: sessions.length },
      razorpay: { subscriptions_canceled: 0, note: 'Razorpay bills nothing recurring: nothing to cancel' },
    },
  })
})
