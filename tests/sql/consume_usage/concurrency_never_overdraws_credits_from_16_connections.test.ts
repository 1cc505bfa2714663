import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser } from '../../helpers/db.ts'
import { consumeAt, counterOf, openConnections, taggedPool } from './support.ts'
import {
  consumeNowWithCredits,
  consumeWithCredits,
  grantCredits,
  ledgerCreditsOf,
  purchaseCredits,
  remainingByGrant,
  type CreditAnswer,
} from './credits_support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

const WORKERS = 16
const FEB = '2024-02-10T12:00:00Z'
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0)

describe('credits drawn from 16 connections at once', () => {
  it('signed-in callers (advisory-lock queue): drawn == granted - remaining, never more, and the ledger agrees', async ({
    sql,
    user,
  }) => {
    // Two small grants, one expiring: 60 credits past a quota of 1000.
    await grantCredits(sql, user.id, 'api_calls', 25, '2999-01-01T00:00:00Z')
    await grantCredits(sql, user.id, 'api_calls', 35)
    await openConnections(workers.sql, WORKERS)

    const calls = (
      await Promise.all(
        range(WORKERS).map(async (worker) => {
          const mine: { amount: number; answer: CreditAnswer }[] = []
          for (let call = 0; call < 50; call += 1) {
            const amount = ((worker + call) % 3) + 1
            const answer = await asUser(
              workers.sql,
              user,
              (tx) => consumeNowWithCredits(tx, 'api_calls', amount),
              { commit: true },
            )
            mine.push({ amount, answer })
          }
          return mine
        }),
      )
    ).flat()

    const allowed = calls.filter((call) => call.answer.allowed)
    const drawn = sum(allowed.map((call) => call.answer.credits_drawn))
    const left = sum(Object.values(await remainingByGrant(sql, user.id, 'api_calls')))
    expect(drawn).toBe(60 - left)
    expect(left).toBeGreaterThanOrEqual(0)
    // 16 x 50 calls of 1 to 3 ask for far more than 1060: what was left is less than the smallest refused call.
    expect(left).toBeLessThan(3)
    expect(sum(allowed.map((call) => call.amount))).toBe(1000 + drawn)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 1000, quota: 1000 })
    for (const call of calls.filter((c) => !c.answer.allowed)) {
      expect(call.answer.credits_drawn).toBe(0)
      expect(call.amount).toBeGreaterThan(call.answer.credits_remaining)
    }
    const ledger = await ledgerCreditsOf(sql, user.id)
    expect(ledger).toHaveLength(allowed.length)
    expect(sum(ledger.map((row) => row.credits))).toBe(drawn)
    expect(sum(ledger.map((row) => row.amount - row.credits))).toBe(1000)
  })

  it('the service role (row-lock queue) while a purchase is refunded: drawn + revoked == granted', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1000, FEB))
    const { purchaseId } = await purchaseCredits(sql, user.id, 400)
    await grantCredits(sql, user.id, 'api_calls', 100, '2024-02-20T00:00:00Z')
    await openConnections(workers.sql, WORKERS)

    let revoked = -1
    const calls = (
      await Promise.all(
        range(WORKERS).map(async (worker) => {
          const mine: { amount: number; answer: CreditAnswer }[] = []
          for (let call = 0; call < 20; call += 1) {
            if (worker === 0 && call === 5) {
              const [row] = await workers.sql<{ n: number }[]>`
                select tollgate_private.revoke_purchase_credits(${purchaseId}::uuid)::float8 as n`
              revoked = row?.n ?? -1
            }
            const amount = ((worker * 7 + call) % 4) + 1
            const answer = await workers.sql.begin((tx) =>
              consumeWithCredits(tx, user.id, 'api_calls', amount, FEB),
            )
            mine.push({ amount, answer })
          }
          return mine
        }),
      )
    ).flat()

    const drawn = sum(calls.filter((c) => c.answer.allowed).map((c) => c.answer.credits_drawn))
    const left = sum(Object.values(await remainingByGrant(sql, user.id, 'api_calls')))
    // The quota was spent: every allowed call was paid by credits alone, the admin grant (earlier
    // expiry) first, so it is used up whatever the revoke took.
    const allowed = calls.filter((c) => c.answer.allowed)
    expect(sum(allowed.map((c) => c.amount))).toBe(drawn)
    expect(drawn).toBeGreaterThanOrEqual(100)
    expect(revoked).toBeGreaterThanOrEqual(0)
    expect(left).toBe(0)
    expect(drawn + revoked + left).toBe(500)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 1000 })
    const [bad] = await sql<{ n: number }[]>`
      select count(*)::int as n from tollgate.credit_balances
      where user_id = ${user.id} and (remaining < 0 or remaining > granted)`
    expect(bad?.n).toBe(0)
  })
})
