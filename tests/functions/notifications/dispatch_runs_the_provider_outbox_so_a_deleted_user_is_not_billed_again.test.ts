import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app } from '../../../functions/notifications/app.ts'
import { poolFor } from '../../../packages/db/src/client.ts'
import { stripeClientFor } from '../../../packages/providers/stripe/src/client.ts'
import { createUser } from '../../helpers/db.ts'
import { createFakeStripe, type FakeStripe } from '../../helpers/fake-stripe.ts'
import { JWT_SECRET, signToken, unixNow } from '../../helpers/billing.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'

// A database of its own: dispatch runs every due action of its database.
let db: Built
let stripe: FakeStripe
let env: Record<string, string>

beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
  stripe = await createFakeStripe()
  env = {
    DATABASE_URL: db.url,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_tollgate_outbox',
    STRIPE_API_BASE: stripe.url,
    TOLLGATE_EMAIL_FROM: 'Acme Billing <billing@acme.test>',
    TOLLGATE_APP_URL: 'https://app.acme.test',
  }
})

afterAll(async () => {
  await poolFor({ DATABASE_URL: db.url }, { max: 2, applicationName: 'tollgate-notifications' }).end()
  await stripe?.close()
  await db?.close()
})

describe('POST /notifications/dispatch and the provider outbox', () => {
  it('cancels at Stripe the subscription of a user deleted in Studio, once', async () => {
    // A paying Stripe subscriber, as checkout and the webhook leave one.
    const user = await createUser(db.sql)
    const session = await stripeClientFor(env).checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
      success_url: 'https://app.acme.test/ok',
      cancel_url: 'https://app.acme.test/no',
    })
    const subscriptionId = String(stripe.completeCheckout(session.id).subscription.id)
    const [sub] = await db.sql<{ id: string }[]>`
      insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
      values (${user.id}, 'pro', 'active', 'stripe', now(), now() + interval '1 month') returning id`
    await db.sql`
      insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id)
      values ('stripe', 'subscription', ${subscriptionId}, ${sub!.id}, ${user.id})`

    // Deleted the way Studio deletes it: no Tollgate route involved.
    await db.sql`delete from auth.users where id = ${user.id}`
    expect(stripe.state.subscriptions.get(subscriptionId)).toMatchObject({ status: 'active' })

    const token = await signToken({ role: 'service_role', iss: 'supabase', iat: unixNow(), exp: unixNow() + 600 })
    const dispatch = () =>
      app.request('/notifications/dispatch', { method: 'POST', headers: { authorization: `Bearer ${token}` } }, env)
    const first = await dispatch()
    expect(first.status).toBe(200)
    expect(await first.json()).toMatchObject({ provider_actions: { done: 1, retry: 0, failed: 0 } })
    expect(stripe.state.subscriptions.get(subscriptionId)).toMatchObject({ status: 'canceled' })

    // Done once: the next run has nothing to do.
    const again = await dispatch()
    expect(await again.json()).toMatchObject({ provider_actions: { done: 0, retry: 0, failed: 0 } })
    const [action] = await db.sql`
      select state, user_id from tollgate_private.provider_actions where provider_object_id = ${subscriptionId}`
    expect(action).toEqual({ state: 'done', user_id: null })
  })
})
