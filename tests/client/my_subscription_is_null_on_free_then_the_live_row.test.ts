import { describe, expect } from 'vitest'
import { it, subscribe } from './support.ts'

describe('mySubscription()', () => {
  it('is null for a user on free, then the live subscription once there is one', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    expect(await caller.tollgate.mySubscription()).toBeNull()

    const id = await subscribe(stack.sql, caller.id, 'pro')

    const [row] = await stack.sql<{ json: Record<string, unknown> }[]>`
      select to_json(s) as json from tollgate.subscriptions s where s.id = ${id}`
    // Every column, serialized as PostgREST serializes it (timestamps as ISO text with offset).
    expect(await caller.tollgate.mySubscription()).toEqual(row?.json)
    expect(await caller.tollgate.mySubscription()).toMatchObject({
      id,
      user_id: caller.id,
      plan_id: 'pro',
      status: 'active',
      provider: 'internal',
      cancel_at_period_end: false,
      current_period_end: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+\+00:00$/),
    })
  })

  it('skips ended subscriptions and one still waiting for its first payment', async ({ stack }) => {
    const caller = await stack.signIn()
    await subscribe(stack.sql, caller.id, 'enterprise', 'canceled')
    await subscribe(stack.sql, caller.id, 'pro', 'incomplete_expired')
    expect(await caller.tollgate.mySubscription()).toBeNull()

    const live = await subscribe(stack.sql, caller.id, 'pro', 'past_due')
    // An incomplete checkout may exist beside the live subscription (not live itself).
    await subscribe(stack.sql, caller.id, 'enterprise', 'incomplete')

    expect(await caller.tollgate.mySubscription()).toMatchObject({ id: live, status: 'past_due' })
  })

  it('is null again once the subscription is canceled', async ({ stack }) => {
    const caller = await stack.signIn()
    const id = await subscribe(stack.sql, caller.id, 'pro')
    expect(await caller.tollgate.mySubscription()).toMatchObject({ id })

    await stack.sql`
      update tollgate.subscriptions set status = 'canceled', canceled_at = now(), ended_at = now()
      where id = ${id}`

    expect(await caller.tollgate.mySubscription()).toBeNull()
    expect(stack.strays).toEqual([])
  })
})
