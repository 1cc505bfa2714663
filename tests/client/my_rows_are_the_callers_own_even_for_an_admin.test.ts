import { describe, expect } from 'vitest'
import { type Caller, invoice, it, SIGN_IN_WAYS, subscribe } from './support.ts'

let alice: Caller
let bob: Caller
const rows = { alice: { subscription: '', invoice: '' }, bob: { subscription: '', invoice: '' } }

it.beforeAll(async ({ stack }) => {
  alice = await stack.signIn()
  bob = await stack.signIn()
  rows.alice = {
    subscription: await subscribe(stack.sql, alice.id, 'pro'),
    invoice: await invoice(stack.sql, alice.id, '1 day'),
  }
  rows.bob = {
    subscription: await subscribe(stack.sql, bob.id, 'enterprise'),
    invoice: await invoice(stack.sql, bob.id, '1 day'),
  }
  await alice.tollgate.consume('api_calls', 7)
  await bob.tollgate.consume('api_calls', 3)
})

const apiCalls = async (caller: Pick<Caller, 'tollgate'>) =>
  (await caller.tollgate.myUsage()).find((usage) => usage.metric === 'api_calls')

describe('my* calls', () => {
  it.for(SIGN_IN_WAYS)(
    'answer only the caller’s rows when the token comes by %s',
    async (via, { stack }) => {
      const client = stack.clientFor(alice.token, via)

      expect(await client.tollgate.mySubscription()).toMatchObject({
        id: rows.alice.subscription,
        user_id: alice.id,
      })
      expect((await client.tollgate.myInvoices()).map((row) => row.id)).toEqual([
        rows.alice.invoice,
      ])
      expect(await apiCalls(client)).toMatchObject({ used: 7 })
      expect(stack.strays).toEqual([])
    },
  )

  it('never show a user someone else’s rows, even when asked for them (RLS)', async () => {
    const tollgate = bob.supabase.schema('tollgate')
    const ofAlice = async (table: 'subscriptions' | 'invoices' | 'usage') =>
      (await tollgate.from(table).select('user_id').eq('user_id', alice.id)).data

    expect(await ofAlice('subscriptions')).toEqual([])
    expect(await ofAlice('invoices')).toEqual([])
    expect(await ofAlice('usage')).toEqual([])
    expect(await bob.tollgate.mySubscription()).toMatchObject({ id: rows.bob.subscription })
    expect(await apiCalls(bob)).toMatchObject({ used: 3 })
  })

  it('give an admin, whom RLS shows every row, only the admin’s own', async ({ stack }) => {
    const admin = await stack.signIn({ admin: true })
    const both = [alice.id, bob.id].sort()
    const tollgate = admin.supabase.schema('tollgate')
    const owners = async (table: 'subscriptions' | 'invoices' | 'usage') =>
      [
        ...new Set(
          (await tollgate.from(table).select('user_id').in('user_id', both)).data?.map(
            (row) => row.user_id,
          ),
        ),
      ].sort()
    // RLS lets the admin read both users' rows…
    expect(await owners('subscriptions')).toEqual(both)
    expect(await owners('invoices')).toEqual(both)
    expect(await owners('usage')).toEqual(both)

    // …but "my" rows are the admin's: no subscription, no invoice, free usage.
    expect(await admin.tollgate.mySubscription()).toBeNull()
    expect(await admin.tollgate.myInvoices()).toEqual([])
    expect(await admin.tollgate.myUsage()).toEqual([
      expect.objectContaining({ metric: 'api_calls', used: 0, quota: 1000 }),
      expect.objectContaining({ metric: 'api_keys', used: 0, quota: 2 }),
      expect.objectContaining({ metric: 'projects', used: 0, quota: 3 }),
      expect.objectContaining({ metric: 'requests', used: 0, quota: 100 }),
      expect.objectContaining({ metric: 'storage_gb', used: 0, quota: 1 }),
    ])
  })
})
