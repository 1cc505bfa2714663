import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Sql } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  newWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { beginSession } from '../consume_usage/support.ts'
import { applyEvent } from './support.ts'

const sql = ownerSql()
const other = ownerSql({ max: 1 })
afterAll(() => Promise.all([sql.end(), other.end()]))

// Resolves once backend `pid` waits on a lock (true), or false if `work` settles first.
const waitsOnALock = async (observer: Sql, pid: number, work: Promise<unknown>) => {
  let settled = false
  void work.then(
    () => (settled = true),
    () => (settled = true),
  )
  for (let attempt = 0; attempt < 1000 && !settled; attempt += 1) {
    const [row] = await observer<{ blocked: boolean }[]>`
      select coalesce(wait_event_type = 'Lock', false) as blocked
      from pg_catalog.pg_stat_activity where pid = ${pid}`
    if (row?.blocked) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

describe('apply_stripe_event with a checkout and its subscription event applied at once', () => {
  it('queues the checkout behind the subscription in flight instead of deadlocking (40P01)', async () => {
    const world = newWorld((await createUser(sql)).id)
    const subscription = subscriptionFixture(world)
    const created = makeStripeEvent('customer.subscription.created', subscription)
    const completed = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world))

    // The subscription's event has begun: it holds the user's lock (its first step) and has not
    // linked the new customer yet.
    const inFlight = await beginSession(sql)
    await inFlight.q`
      select pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('tollgate.user:' || ${world.userId}, 0))`

    // The checkout arrives meanwhile on another connection. Were it to link the customer before
    // taking the lock, the subscription's own link below would wait on that uncommitted row while
    // the checkout waits on the lock: Postgres would abort one of them with 40P01.
    const [backend] = await other<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
    const checkout = applyEvent(other, completed, { subscription })
    expect(await waitsOnALock(sql, backend?.pid ?? -1, checkout)).toBe(true)

    const first = await applyEvent(inFlight.q, created)
    expect(first).toMatchObject({ outcome: 'applied', user_id: world.userId })
    await inFlight.end('commit')
    expect(await checkout).toMatchObject({ user_id: world.userId })

    expect(
      await sql`
        select status, plan_id from tollgate.subscriptions where user_id = ${world.userId}`,
    ).toEqual([{ status: 'active', plan_id: 'pro' }])
    expect(
      await sql`
        select count(*)::int as n from tollgate_private.customers where user_id = ${world.userId}`,
    ).toEqual([{ n: 1 }])
  })
})
