import type { Queryable } from '../../helpers/db.ts'
import { normalize, type Answer } from './support.ts'

/** A consume_usage answer with the credit keys: usable credits after the call, and how many it drew. */
export type CreditAnswer = Answer & { credits_remaining: number; credits_drawn: number }

type RawCreditAnswer = Omit<CreditAnswer, 'period_end'> & { period_end: string | null }

const withCredits = (raw: RawCreditAnswer): CreditAnswer => ({
  ...normalize(raw),
  credits_remaining: raw.credits_remaining,
  credits_drawn: raw.credits_drawn,
})

/** The private consume_usage (owner or service_role) at as_of, answering the credit keys too. */
export const consumeWithCredits = async (
  q: Queryable,
  userId: string,
  metric: string,
  amount: number,
  asOf: string,
  key: string | null = null,
): Promise<CreditAnswer> => {
  const [row] = await q<{ answer: RawCreditAnswer }[]>`
    select tollgate_private.consume_usage(
      ${userId}::uuid, ${metric}::text, ${amount}::bigint, ${key}::text, ${asOf}::text::timestamptz
    ) as answer`
  if (!row) throw new Error('consume_usage returned no row')
  return withCredits(row.answer)
}

/** The public RPC tollgate.consume_usage as the transaction's role and claims, with the credit keys. */
export const consumeNowWithCredits = async (
  q: Queryable,
  metric: string,
  amount = 1,
): Promise<CreditAnswer> => {
  const [row] = await q<{ answer: RawCreditAnswer }[]>`
    select tollgate.consume_usage(${metric}::text, ${amount}::bigint) as answer`
  if (!row) throw new Error('consume_usage returned no row')
  return withCredits(row.answer)
}

/** An admin grant of credits (grant_credits, the one way credits are made); returns the grant id. */
export const grantCredits = async (
  q: Queryable,
  userId: string,
  metric: string,
  amount: number,
  expiresAt: string | null = null,
): Promise<string> => {
  const [row] = await q<{ id: string }[]>`
    select g.id from tollgate_private.grant_credits(
      ${userId}::uuid, ${metric}::text, ${amount}::bigint, ${expiresAt}::text::timestamptz, 'admin',
      null, 'test grant') g`
  if (!row) throw new Error('grant_credits returned no row')
  return row.id
}

/** A paid purchase of the seeded api_calls_pack and its credits (as the purchase code grants them). */
export const purchaseCredits = async (
  q: Queryable,
  userId: string,
  amount: number,
  expiresAt: string | null = null,
): Promise<{ purchaseId: string; grantId: string }> => {
  const [purchase] = await q<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid)
    values (${userId}::uuid, 'api_calls_pack', 'internal', 'usd', 1000)
    returning id`
  if (!purchase) throw new Error('no purchase')
  const [grant] = await q<{ id: string }[]>`
    select g.id from tollgate_private.grant_credits(
      ${userId}::uuid, 'api_calls', ${amount}::bigint, ${expiresAt}::text::timestamptz, 'purchase',
      ${purchase.id}::uuid) g`
  if (!grant) throw new Error('grant_credits returned no row')
  return { purchaseId: purchase.id, grantId: grant.id }
}

/** remaining of each grant of a user's metric, by grant id. */
export const remainingByGrant = async (
  q: Queryable,
  userId: string,
  metric: string,
): Promise<Record<string, number>> => {
  const rows = await q<{ id: string; remaining: number }[]>`
    select id, remaining::float8 as remaining from tollgate.credit_balances
    where user_id = ${userId}::uuid and metric = ${metric}`
  return Object.fromEntries(rows.map((row) => [row.id, row.remaining]))
}

/** The amounts and credits of a user's counted ledger rows, in order. */
export const ledgerCreditsOf = async (
  q: Queryable,
  userId: string,
): Promise<{ amount: number; credits: number; allowed: boolean }[]> =>
  q<{ amount: number; credits: number; allowed: boolean }[]>`
    select amount::float8 as amount, credits::float8 as credits, allowed
    from tollgate_private.usage_events where user_id = ${userId}::uuid order by id`
