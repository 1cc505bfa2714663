import { Hono } from 'hono'
import { DeleteAccountRequest, envOf, parseJson } from '../../../packages/core/src/index.ts'
import {
  cancelStripeSubscriptionForDeletion,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import { dbFor, deleteAccount, stripeSubscriptionsToCancel, type BillingEnv } from '../db.ts'

/**
 * POST /delete-account {confirm: true}: cancels the caller's Stripe subscriptions at Stripe at
 * once, then forgets them in Tollgate (invoices and purchases kept without personal data).
 */
export const deleteAccountRoute = new Hono<BillingEnv>()

deleteAccountRoute.post('/delete-account', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  await parseJson(c, DeleteAccountRequest)
  const db = dbFor(env)
  // Stripe first: when it fails (PROVR) nothing is deleted, and a retry starts over.
  const subscriptions = await stripeSubscriptionsToCancel(db, user)
  if (subscriptions.length > 0) {
    const stripe = stripeClientFor(env)
    for (const id of subscriptions) await cancelStripeSubscriptionForDeletion(stripe, id)
  }
  const forgotten = await deleteAccount(db, user, subscriptions)
  return c.json({
    ...forgotten,
    providers: {
      stripe: { subscriptions_canceled: subscriptions.length },
      razorpay: { subscriptions_canceled: 0, note: 'Razorpay bills nothing recurring: nothing to cancel' },
    },
  })
})
