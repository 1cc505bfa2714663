import { randomUUID } from 'node:crypto'
import {
  anonClaims,
  createUser,
  serviceRoleClaims,
  withRollback,
  type Claims,
  type Sql,
  type TestUser,
  type Tx,
} from '../../helpers/db.ts'

/** The callers every RLS test distinguishes. */
export const ROLES = ['anon', 'other', 'owner', 'admin', 'service_role'] as const

/** One of the callers. */
export type Role = (typeof ROLES)[number]

/** Committed rows the RLS tests read: two users with a subscription and an invoice each, and an admin. */
export type RlsFixture = {
  owner: TestUser
  other: TestUser
  admin: TestUser
  subscriptions: { owner: string; other: string }
  invoices: { owner: string; other: string }
}

/**
 * Creates the fixture as the database owner, committed. The owner's subscription is over (canceled),
 * so the owner is on plan free; the other user has a live pro subscription.
 */
export const createRlsFixture = async (sql: Sql): Promise<RlsFixture> => {
  const owner = await createUser(sql)
  const other = await createUser(sql)
  const admin = await createUser(sql, { admin: true })
  const subscriptions = { owner: randomUUID(), other: randomUUID() }
  const invoices = { owner: randomUUID(), other: randomUUID() }
  await sql`
    insert into tollgate.subscriptions (
      id, user_id, plan_id, status, provider, current_period_start, current_period_end,
      canceled_at, ended_at
    ) values
      (${subscriptions.owner}, ${owner.id}, 'pro', 'canceled', 'stripe',
        now() - interval '60 days', now() - interval '30 days',
        now() - interval '30 days', now() - interval '30 days'),
      (${subscriptions.other}, ${other.id}, 'pro', 'active', 'stripe',
        now(), now() + interval '30 days', null, null)`
  await sql`
    insert into tollgate.invoices (
      id, user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid
    ) values
      (${invoices.owner}, ${owner.id}, ${subscriptions.owner}, 'stripe', 'INV-OWNER', 'paid', 'usd',
        2900, 2900),
      (${invoices.other}, ${other.id}, ${subscriptions.other}, 'stripe', 'INV-OTHER', 'open', 'usd',
        2900, 0)`
  // The owner's paid invoice has notified payment_succeeded; the other user gets one too.
  await sql`
    select tollgate_private.notify(${other.id}, 'quota_warning', 'rls-fixture', 'Quota', 'At 80 %')`
  await sql`
    insert into tollgate.notification_preferences (user_id, email_opt_out)
    values (${owner.id}, '{}'), (${other.id}, '{plan_changed}')`
  return { owner, other, admin, subscriptions, invoices }
}

/** Removes what createRlsFixture committed. */
export const dropRlsFixture = async (sql: Sql, fixture: RlsFixture | undefined): Promise<void> => {
  if (!fixture) return
  const ids = [fixture.owner.id, fixture.other.id, fixture.admin.id]
  // Subscriptions first: their delete trigger re-syncs usage counters of a user that must still exist.
  await sql`delete from tollgate.invoices where user_id = any(${ids}::uuid[])`
  await sql`delete from tollgate.subscriptions where user_id = any(${ids}::uuid[])`
  await sql`delete from auth.users where id = any(${ids}::uuid[])`
}

/** The JWT claims PostgREST would run each caller with. */
export const claimsOf = (fixture: RlsFixture, role: Role): Claims => {
  switch (role) {
    case 'anon':
      return anonClaims()
    case 'service_role':
      return serviceRoleClaims()
    default:
      return fixture[role].claims
  }
}

/** Switches the running transaction to the caller, exactly as the db.ts helpers (and PostgREST) do. */
export const become = async (tx: Tx, claims: Claims): Promise<void> => {
  await tx`
    select
      pg_catalog.set_config('role', ${claims.role}, true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
}

/**
 * Runs `before` as the database owner, then `fn` as the caller, in one transaction that is rolled
 * back: lets a test add rows only it can see (an inactive plan) and then read as an API role.
 */
export const asCallerAfter = <T>(
  sql: Sql,
  claims: Claims,
  before: (tx: Tx) => Promise<unknown>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> =>
  withRollback(sql, async (tx) => {
    await before(tx)
    await become(tx, claims)
    return fn(tx)
  })
