import { Hono } from 'hono'
import {
  ApiError,
  envOf,
  parseJson,
  PortalRequest,
  redirectUrl,
} from '../../../packages/core/src/index.ts'
import {
  createStripePortalSession,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import { dbFor, stripeCustomerOf, type BillingEnv } from '../db.ts'

/** POST /portal: a Stripe Billing Portal session for the caller's customer. */
export const portal = new Hono<BillingEnv>()

portal.post('/portal', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, PortalRequest, { allowEmpty: true })
  const stripe = stripeClientFor(env)
  const returnUrl = redirectUrl(env, body.return_url, 'return')
  const customerId = await stripeCustomerOf(dbFor(env), user)
  if (!customerId) {
    throw new ApiError('NOSUB', { message: 'You have no Stripe billing account yet' })
  }
  return c.json(await createStripePortalSession(stripe, { customerId, returnUrl }))
})
