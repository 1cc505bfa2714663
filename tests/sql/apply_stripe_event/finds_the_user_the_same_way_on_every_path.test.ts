import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  invoiceFixture,
  newWorld,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

/** One object of each path that names no user itself: no metadata, no client_reference_id. */
const bareObjects = (world: StripeWorld): [string, StripeJson][] => {
  const invoice = invoiceFixture(world)
  invoice.parent.subscription_details.metadata = {}
  return [
    ['customer.subscription.created', subscriptionFixture(world, { metadata: {} })],
    ['invoice.paid', invoice],
    ['checkout.session.completed', checkoutSessionFixture(world, { clientReferenceId: null, metadata: {} })],
  ]
}

/** The user each path's event is applied for (outcome applied), or its outcome. */
const usersFound = async (tx: Tx, world: StripeWorld) => {
  const found: Record<string, string | undefined> = {}
  for (const [type, object] of bareObjects(world)) {
    const result = await applyEvent(tx, makeStripeEvent(type, object))
    found[type] = result.outcome === 'applied' ? result.user_id : result.outcome
  }
  return found
}

describe('apply_stripe_event finds the user the same way for subscriptions, invoices and checkouts', () => {
  it('by the customer linked earlier, when the object names no user', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      await tx`select tollgate_private.link_customer(${world.userId}, 'stripe', ${world.customerId})`
      expect(await usersFound(tx, world)).toEqual({
        'customer.subscription.created': world.userId,
        'invoice.paid': world.userId,
        'checkout.session.completed': world.userId,
      })
    })
  })

  it('by the user recorded for the subscription, when the customer is new', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      await tx`
        insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id)
        values ('stripe', 'subscription', ${world.subscriptionId}, ${world.userId})`
      expect(await usersFound(tx, world)).toEqual({
        'customer.subscription.created': world.userId,
        'invoice.paid': world.userId,
        'checkout.session.completed': world.userId,
      })
    })
  })

  it('answers unlinked on every path when nothing leads to a user', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld(randomUUID())
      expect(await usersFound(tx, world)).toEqual({
        'customer.subscription.created': 'unlinked',
        'invoice.paid': 'unlinked',
        'checkout.session.completed': 'unlinked',
      })
    })
  })
})

describe('stripe_user_of, the one lookup they share', () => {
  const userOf = async (
    tx: Tx,
    hint: string | null,
    metadataUser: string | null,
    customer: string | null,
    subscription: string | null,
    session: string | null = null,
  ) => {
    const [row] = await tx<{ user_id: string | null }[]>`
      select tollgate_private.stripe_user_of(
        ${hint}::uuid, ${metadataUser}::uuid, ${customer}, ${subscription}, ${session}) as user_id`
    return row?.user_id ?? null
  }

  it('takes the first of hint, metadata.user_id, customer, subscription ref, session ref', async () => {
    await withRollback(sql, async (tx) => {
      const [a, b, c, d, e] = await Promise.all(
        Array.from({ length: 5 }, async () => (await createUser(tx)).id),
      )
      const world = newWorld(c!)
      await tx`select tollgate_private.link_customer(${c!}, 'stripe', ${world.customerId})`
      await tx`
        insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id)
        values ('stripe', 'subscription', ${world.subscriptionId}, ${d!}),
               ('stripe', 'checkout_session', ${world.sessionId}, ${e!})`
      const { customerId: cus, subscriptionId: sub, sessionId: cs } = world
      expect(await userOf(tx, a!, b!, cus, sub, cs)).toBe(a)
      expect(await userOf(tx, null, b!, cus, sub, cs)).toBe(b)
      expect(await userOf(tx, null, null, cus, sub, cs)).toBe(c)
      expect(await userOf(tx, null, null, 'cus_unknown', sub, cs)).toBe(d)
      expect(await userOf(tx, null, null, null, 'sub_unknown', cs)).toBe(e)
      expect(await userOf(tx, null, null, null, null, null)).toBeNull()
    })
  })

  it('answers null for a hint that is no user instead of looking further', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      await tx`select tollgate_private.link_customer(${world.userId}, 'stripe', ${world.customerId})`
      expect(await userOf(tx, randomUUID(), null, world.customerId, null)).toBeNull()
      expect(await userOf(tx, null, null, world.customerId, null)).toBe(world.userId)
    })
  })
})
