import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import { stripeId } from '../../helpers/stripe/events.ts'

type Due = { id: string; provider_object_id: string; attempts: number }

const due = async (tx: Tx, asOf: string): Promise<Due[]> => {
  const [row] = await tx<{ actions: Due[] }[]>`
    select tollgate_private.due_provider_actions(1000, ${asOf}::timestamptz) as actions`
  return row?.actions ?? []
}

const finish = (tx: Tx, id: string, succeeded: boolean, permanent = false) =>
  tx`select tollgate_private.finish_provider_action(${id}::uuid, ${succeeded}, 'boom', ${permanent}, now())`

const stateOf = async (tx: Tx, id: string) => {
  const [row] = await tx<{ state: string; attempts: number; last_error: string | null }[]>`
    select state, attempts, last_error from tollgate_private.provider_actions where id = ${id}::uuid`
  return row
}

describe('the provider_actions outbox', () => {
  it('offers a pending action, backs off after a failure, and stops offering it once done', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const object = stripeId('sub')
      const [queued] = await tx<{ id: string }[]>`
        insert into tollgate_private.provider_actions (provider, action, provider_object_id, reason)
        values ('stripe', 'cancel_subscription', ${object}, 'test') returning id`
      const id = queued?.id ?? ''
      const mine = async (asOf: string) =>
        (await due(tx, asOf)).filter((a) => a.provider_object_id === object)

      expect(await mine(new Date().toISOString())).toMatchObject([{ id, attempts: 0 }])
      await finish(tx, id, false)
      expect(await stateOf(tx, id)).toEqual({ state: 'pending', attempts: 1, last_error: 'boom' })
      // Backed off: not offered again at once, but a few minutes later.
      expect(await mine(new Date().toISOString())).toEqual([])
      expect(await mine(new Date(Date.now() + 10 * 60_000).toISOString())).toHaveLength(1)

      await finish(tx, id, true)
      // A late failure of a concurrent run does not undo it.
      await finish(tx, id, false, true)
      expect(await stateOf(tx, id)).toMatchObject({ state: 'done', attempts: 1 })
      expect(await mine(new Date(Date.now() + 86_400_000).toISOString())).toEqual([])
    })
  })

  it('marks an action the provider refuses for good as failed, for an operator', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const [queued] = await tx<{ id: string }[]>`
        insert into tollgate_private.provider_actions (provider, action, provider_object_id, reason)
        values ('stripe', 'cancel_subscription', ${stripeId('sub')}, 'test') returning id`
      await finish(tx, queued?.id ?? '', false, true)
      expect(await stateOf(tx, queued?.id ?? '')).toMatchObject({ state: 'failed', attempts: 1 })
    })
  })
})
