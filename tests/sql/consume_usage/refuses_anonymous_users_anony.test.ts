import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asClaims, pgError, userClaims } from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'
import { counterOf, ledgerOf } from './support.ts'

// Supabase anonymous sign-ins are role authenticated with the claim is_anonymous: true; anyone can
// mint as many as they like, so each one's free quota would be free usage for the taking. They
// may read plans; they may not consume. Called as PostgREST runs the request.

const anonymousClaims = (id: string) => ({ ...userClaims(id), is_anonymous: true })

describe('tollgate.consume_usage for an anonymous user', () => {
  it('answers 403 ANONY and counts nothing, keyed or not', async ({ sql, user }) => {
    for (const key of [null, 'anonymous-key']) {
      const error = await asClaims(sql, anonymousClaims(user.id), async (tx) => {
        await asPostgrestRequest(tx)
        return pgError(tx`select tollgate.consume_usage('api_calls', 1, ${key}::text)`)
      })
      expect(error.code).toBe('PGRST')
      expect(JSON.parse(error.message)).toMatchObject({ code: 'ANONY' })
      expect(JSON.parse(error.detail ?? '')).toEqual({ status: 403, headers: {} })
    }
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
    expect(await ledgerOf(sql, user.id)).toEqual([])
  })

  it('raises ANONY itself outside a PostgREST request', async ({ sql, user }) => {
    const error = await asClaims(sql, anonymousClaims(user.id), (tx) =>
      pgError(tx`select tollgate.consume_usage('api_calls')`),
    )
    expect(error.code).toBe('ANONY')
  })

  it('still lets them read the plans', async ({ sql, user }) => {
    const plans = await asClaims(sql, anonymousClaims(user.id), async (tx) => {
      await asPostgrestRequest(tx, 'GET', '/plans')
      return tx<{ id: string }[]>`select id from tollgate.plans where active order by sort_order`
    })
    expect(plans.map((plan) => plan.id)).toEqual(
      expect.arrayContaining(['free', 'pro', 'enterprise']),
    )
  })

  it('lets a signed-in user whose claim is_anonymous is false consume', async ({ sql, user }) => {
    const signedIn = { ...userClaims(user.id), is_anonymous: false }
    const answer = await asClaims(sql, signedIn, async (tx) => {
      await asPostgrestRequest(tx)
      const [row] = await tx<{ allowed: boolean }[]>`
        select (tollgate.consume_usage('api_calls') ->> 'allowed')::boolean as allowed`
      return row
    })
    expect(answer).toEqual({ allowed: true })
  })
})
