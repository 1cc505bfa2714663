import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  footprintOf,
  signToken,
  unixNow,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
let caller: Caller
beforeAll(async () => {
  h = await billingHarness()
  caller = await h.signIn()
})
afterAll(() => h.close())

const WEEK = 7 * 24 * 3600
const PROJECT = 'https://abc.supabase.co'

// The caller's real claims with some replaced (undefined drops one).
const tokenWith = (overrides: Record<string, unknown>): Promise<string> =>
  signToken({ ...caller.claims, ...overrides })

const checkout = (token: string, env?: Record<string, string | undefined>) =>
  h.post('checkout', caller, { plan_id: 'free' }, { token, ...(env ? { env } : {}) })

const codeOf = async (answer: ReturnType<typeof checkout>) => {
  const { status, body } = await answer
  return { status, code: body.code }
}

const nothingChanged = {
  subscriptions: [],
  invoices: [],
  customers: [],
  refs: [],
  redemptions: [],
}

describe('POST /billing/* with a signed token that is not a signed-in user of this project', () => {
  it('refuses a token for another audience than authenticated, or none (BDJWT)', async () => {
    expect(await codeOf(checkout(await tokenWith({ aud: 'anon' })))).toEqual({
      status: 401,
      code: 'BDJWT',
    })
    expect(await codeOf(checkout(await tokenWith({ aud: undefined })))).toEqual({
      status: 401,
      code: 'BDJWT',
    })
  })

  it("refuses a token another project's Auth issued once SUPABASE_URL is set (BDJWT)", async () => {
    const env = { SUPABASE_URL: PROJECT }
    const foreign = await tokenWith({ iss: 'https://xyz.supabase.co/auth/v1' })
    expect(await codeOf(checkout(foreign, env))).toEqual({ status: 401, code: 'BDJWT' })
    const own = await tokenWith({ iss: `${PROJECT}/auth/v1` })
    expect(await codeOf(checkout(own, env))).toEqual({ status: 200, code: undefined })
  })

  it('refuses a token that lives longer than a week, or says nothing of when it was issued (BDJWT)', async () => {
    const now = unixNow()
    const tokens = [
      await tokenWith({ exp: 1e300 }),
      await tokenWith({ iat: now, exp: now + WEEK + 3600 }),
      await tokenWith({ iat: now - WEEK, exp: now + 60 }),
      await tokenWith({ iat: undefined }),
    ]
    for (const token of tokens) {
      expect(await codeOf(checkout(token))).toEqual({ status: 401, code: 'BDJWT' })
    }
  })

  it('refuses an anonymous Supabase user, who has no account to bill (ANONY)', async () => {
    const anonymous = await h.signIn()
    const token = await signToken({ ...anonymous.claims, is_anonymous: true })
    for (const route of ['checkout', 'change-plan', 'cancel', 'resume', 'portal']) {
      const answer = await h.post(route, anonymous, { plan_id: 'pro' }, { token })
      expect({ route, status: answer.status, code: answer.body.code }).toEqual({
        route,
        status: 403,
        code: 'ANONY',
      })
    }
    expect(await footprintOf(h.sql, anonymous.id)).toEqual(nothingChanged)
  })
})
