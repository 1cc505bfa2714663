import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { counterOf } from './support.ts'
import {
  consumeWithCredits,
  grantCredits,
  ledgerCreditsOf,
  remainingByGrant,
} from './credits_support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('an idempotency key on a consume that draws credits', () => {
  it('draws once and answers the first answer again', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const grant = await grantCredits(tx, user.id, 'api_calls', 500)
      const first = await consumeWithCredits(tx, user.id, 'api_calls', 1100, FEB, 'order-42')
      expect(first).toMatchObject({
        allowed: true,
        used: 1000,
        credits_drawn: 100,
        credits_remaining: 400,
      })
      const again = await consumeWithCredits(tx, user.id, 'api_calls', 1100, FEB, 'order-42')
      expect(again).toEqual(first)
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 1000 })
      expect(await remainingByGrant(tx, user.id, 'api_calls')).toEqual({ [grant]: 400 })
      expect(await ledgerCreditsOf(tx, user.id)).toEqual([
        { amount: 1100, credits: 100, allowed: true },
      ])
    })
  })
})
