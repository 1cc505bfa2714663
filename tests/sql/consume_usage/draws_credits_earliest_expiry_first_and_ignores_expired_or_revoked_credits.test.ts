import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  consumeWithCredits,
  grantCredits,
  purchaseCredits,
  remainingByGrant,
} from './credits_support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage draws credits in order', () => {
  it('earliest expiry first, never-expiring last; expired and revoked credits count for nothing', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const never = await grantCredits(tx, user.id, 'api_calls', 100, null)
      const march = await grantCredits(tx, user.id, 'api_calls', 100, '2024-03-01T00:00:00Z')
      const soon = await grantCredits(tx, user.id, 'api_calls', 100, '2024-02-15T00:00:00Z')
      const expired = await grantCredits(tx, user.id, 'api_calls', 100, '2024-02-10T12:00:00Z')
      const refunded = await purchaseCredits(tx, user.id, 100, null)
      await tx`select tollgate_private.revoke_purchase_credits(${refunded.purchaseId}::uuid)`

      await consumeWithCredits(tx, user.id, 'api_calls', 1000, FEB)
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 150, FEB)).toMatchObject({
        allowed: true,
        credits_drawn: 150,
        credits_remaining: 150,
      })
      expect(await remainingByGrant(tx, user.id, 'api_calls')).toEqual({
        [soon]: 0,
        [march]: 50,
        [never]: 100,
        [expired]: 100,
        [refunded.grantId]: 0,
      })
      // More than the usable 150 (the expired 100 do not count): refused, nothing drawn.
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 151, FEB)).toMatchObject({
        allowed: false,
        credits_drawn: 0,
        credits_remaining: 150,
      })
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 150, FEB)).toMatchObject({
        allowed: true,
        credits_drawn: 150,
        credits_remaining: 0,
      })
      expect(await remainingByGrant(tx, user.id, 'api_calls')).toEqual({
        [soon]: 0,
        [march]: 0,
        [never]: 0,
        [expired]: 100,
        [refunded.grantId]: 0,
      })
    })
  })

  it('a grant expires at its expires_at: usable just before, not at it', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await grantCredits(tx, user.id, 'api_calls', 10, '2024-02-20T00:00:00Z')
      await consumeWithCredits(tx, user.id, 'api_calls', 1000, '2024-02-19T00:00:00Z')
      expect(
        await consumeWithCredits(tx, user.id, 'api_calls', 4, '2024-02-19T23:59:59Z'),
      ).toMatchObject({ allowed: true, credits_drawn: 4, credits_remaining: 6 })
      expect(
        await consumeWithCredits(tx, user.id, 'api_calls', 1, '2024-02-20T00:00:00Z'),
      ).toMatchObject({ allowed: false, credits_drawn: 0, credits_remaining: 0 })
    })
  })
})
