import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownerSql, pgError, type Tx } from '../../helpers/db.ts'
import {
  asCallerAfter,
  claimsOf,
  createRlsFixture,
  dropRlsFixture,
  ROLES,
  type RlsFixture,
  type Role,
} from './fixture.ts'

const sql = ownerSql()
let fixture: RlsFixture | undefined
beforeAll(async () => {
  fixture = await createRlsFixture(sql)
})
afterAll(async () => {
  await dropRlsFixture(sql, fixture)
  await sql.end()
})

// Discovered from the catalog, so a new table or view without a row in EXPECTED fails below.
const relations = await sql<{ name: string; qualified: string; firstColumn: string }[]>`
  select n.nspname || '.' || c.relname as name,
    format('%I.%I', n.nspname, c.relname) as qualified,
    (select format('%I', a.attname) from pg_catalog.pg_attribute a
      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        -- Setting an identity column fails (428C9) before the privilege check.
        and a.attidentity = '' and a.attgenerated = ''
      order by a.attnum limit 1) as "firstColumn"
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname in ('tollgate', 'tollgate_private')
    and c.relkind in ('r', 'p', 'v', 'm', 'f')
  order by 1`

const OPS = ['select', 'insert', 'update', 'delete'] as const
type Op = (typeof OPS)[number]

/** What the caller must get: an error (SQLSTATE), or exactly these fixture rows (by label). */
type Outcome = { denied: string } | { sees: string[] }

/** Per-test rows (rolled back) plus the committed fixture. */
type Scene = RlsFixture & { hiddenPlan: string }

/** Reads the fixture rows of a relation visible to the caller, as sorted labels. */
type Probe = (tx: Tx, scene: Scene) => Promise<string[]>

type Expectation = { probe?: Probe } & Record<Op, Record<Role, Outcome>>

const DENIED: Outcome = { denied: '42501' }
// The usage view reads from a function, so it is not updatable: Postgres refuses any write to it
// (55000) before it checks privileges, which no API role has on it either.
const NOT_UPDATABLE: Outcome = { denied: '55000' }
const sees = (...labels: string[]): Outcome => ({ sees: labels })
const everyone = (outcome: Outcome): Record<Role, Outcome> =>
  Object.fromEntries(ROLES.map((role) => [role, outcome])) as Record<Role, Outcome>

// Clients never write anywhere: every insert, update and delete lacks the grant.
const readOnly = (
  select: Record<Role, Outcome>,
  probe: Probe,
  write: Outcome = DENIED,
): Expectation => ({
  probe,
  select,
  insert: everyone(write),
  update: everyone(write),
  delete: everyone(write),
})

// Private tables: no grant for any API role (anon does not even reach the schema).
const PRIVATE: Expectation = {
  select: everyone(DENIED),
  insert: everyone(DENIED),
  update: everyone(DENIED),
  delete: everyone(DENIED),
}

// Admins' Studio views in tollgate_private: no grant for any API role; the signed-in roles, which
// reach the schema, are told first that a grouping view is not updatable (55000).
const PRIVATE_VIEW: Expectation = {
  select: everyone(DENIED),
  insert: { ...everyone(NOT_UPDATABLE), anon: DENIED },
  update: { ...everyone(NOT_UPDATABLE), anon: DENIED },
  delete: { ...everyone(NOT_UPDATABLE), anon: DENIED },
}

const labelOfUser = (scene: Scene, userId: string): string =>
  userId === scene.owner.id ? 'owner' : userId === scene.other.id ? 'other' : userId

const sorted = (labels: string[]): string[] => [...labels].sort()

const probePlans: Probe = async (tx, scene) => {
  const rows = await tx<{ id: string }[]>`
    select id from tollgate.plans where id in ('free', ${scene.hiddenPlan})`
  return sorted(rows.map((r) => (r.id === scene.hiddenPlan ? 'hidden' : r.id)))
}

const probePlanLimits: Probe = async (tx, scene) => {
  const rows = await tx<{ plan_id: string; metric: string }[]>`
    select plan_id, metric from tollgate.plan_limits where plan_id in ('free', ${scene.hiddenPlan})`
  return sorted(
    rows.map((r) => `${r.plan_id === scene.hiddenPlan ? 'hidden' : r.plan_id}:${r.metric}`),
  )
}

const probeSubscriptions: Probe = async (tx, scene) => {
  const ids = [scene.subscriptions.owner, scene.subscriptions.other]
  const rows = await tx<{ user_id: string }[]>`
    select user_id from tollgate.subscriptions where id = any(${ids}::uuid[])`
  return sorted(rows.map((r) => labelOfUser(scene, r.user_id)))
}

const probeInvoices: Probe = async (tx, scene) => {
  const ids = [scene.invoices.owner, scene.invoices.other]
  const rows = await tx<{ user_id: string }[]>`
    select user_id from tollgate.invoices where id = any(${ids}::uuid[])`
  return sorted(rows.map((r) => labelOfUser(scene, r.user_id)))
}

// Whose rows of the fixture's two users the caller sees (one label per user).
const probeNotifications: Probe = async (tx, scene) => {
  const users = [scene.owner.id, scene.other.id]
  const rows = await tx<{ user_id: string }[]>`
    select distinct user_id from tollgate.notifications where user_id = any(${users}::uuid[])`
  return sorted(rows.map((r) => labelOfUser(scene, r.user_id)))
}

const probePreferences: Probe = async (tx, scene) => {
  const users = [scene.owner.id, scene.other.id]
  const rows = await tx<{ user_id: string }[]>`
    select user_id from tollgate.notification_preferences where user_id = any(${users}::uuid[])`
  return sorted(rows.map((r) => labelOfUser(scene, r.user_id)))
}

const probeUsage: Probe = async (tx, scene) => {
  const users = [scene.owner.id, scene.other.id]
  const rows = await tx<{ user_id: string; metric: string }[]>`
    select user_id, metric from tollgate.usage where user_id = any(${users}::uuid[])`
  return sorted(rows.map((r) => `${labelOfUser(scene, r.user_id)}:${r.metric}`))
}

const probeProducts: Probe = async (tx, scene) => {
  const rows = await tx<{ id: string }[]>`
    select id from tollgate.products where id in ('api_calls_pack', ${scene.hiddenPlan})`
  return sorted(rows.map((r) => (r.id === scene.hiddenPlan ? 'hidden' : r.id)))
}

const probeMemberDiscounts: Probe = async (tx, scene) => {
  const rows = await tx<{ plan_id: string; product_id: string }[]>`
    select plan_id, product_id from tollgate.member_discounts where plan_id in ('pro', ${scene.hiddenPlan})`
  const label = (id: string): string => (id === scene.hiddenPlan ? 'hidden' : id)
  return sorted(rows.map((r) => `${label(r.plan_id)}:${label(r.product_id)}`))
}

// Whose rows of the fixture's two users the caller sees in a per-user table (one label per user).
const probeUserRows =
  (table: 'tollgate.purchases' | 'tollgate.credit_balances' | 'tollgate.api_keys'): Probe =>
  async (tx, scene) => {
    const users = [scene.owner.id, scene.other.id]
    const rows = await tx<{ user_id: string }[]>`
      select distinct user_id from ${tx(table)} where user_id = any(${users}::uuid[])`
    return sorted(rows.map((r) => labelOfUser(scene, r.user_id)))
  }

const ownRows = {
  anon: DENIED,
  other: sees('other'),
  owner: sees('owner'),
  admin: sees('other', 'owner'),
  service_role: sees('other', 'owner'),
}

const probePlanFeatures: Probe = async (tx) => {
  const rows = await tx<{ plan_id: string; feature: string }[]>`
    select plan_id, feature from tollgate.plan_features where plan_id = 'enterprise'`
  return sorted(rows.map((r) => `${r.plan_id}:${r.feature}`))
}

const FREE_METRICS = ['api_calls', 'api_keys', 'projects', 'requests', 'storage_gb']
const FREE_LIMITS = FREE_METRICS.map((m) => `free:${m}`)
const USAGE = {
  owner: FREE_METRICS.map((m) => `owner:${m}`),
  other: FREE_METRICS.map((m) => `other:${m}`),
}

const EXPECTED: Record<string, Expectation> = {
  'tollgate.plans': readOnly(
    {
      anon: sees('free'),
      other: sees('free'),
      owner: sees('free'),
      admin: sees('free', 'hidden'),
      service_role: sees('free', 'hidden'),
    },
    probePlans,
  ),
  'tollgate.plan_limits': readOnly(
    everyone(sees(...FREE_LIMITS, 'hidden:api_calls')),
    probePlanLimits,
  ),
  'tollgate.plan_features': readOnly(
    everyone(sees('enterprise:export', 'enterprise:priority_support', 'enterprise:sso')),
    probePlanFeatures,
  ),
  'tollgate.products': readOnly(
    {
      anon: sees('api_calls_pack'),
      other: sees('api_calls_pack'),
      owner: sees('api_calls_pack'),
      admin: sees('api_calls_pack', 'hidden'),
      service_role: sees('api_calls_pack', 'hidden'),
    },
    probeProducts,
  ),
  'tollgate.member_discounts': readOnly(
    everyone(sees('pro:api_calls_pack', 'hidden:hidden')),
    probeMemberDiscounts,
  ),
  'tollgate.purchases': readOnly(ownRows, probeUserRows('tollgate.purchases')),
  'tollgate.credit_balances': readOnly(ownRows, probeUserRows('tollgate.credit_balances')),
  'tollgate.api_keys': readOnly(ownRows, probeUserRows('tollgate.api_keys')),
  'tollgate.subscriptions': readOnly(
    {
      anon: DENIED,
      other: sees('other'),
      owner: sees('owner'),
      admin: sees('other', 'owner'),
      service_role: sees('other', 'owner'),
    },
    probeSubscriptions,
  ),
  'tollgate.invoices': readOnly(
    {
      anon: DENIED,
      other: sees('other'),
      owner: sees('owner'),
      admin: sees('other', 'owner'),
      service_role: sees('other', 'owner'),
    },
    probeInvoices,
  ),
  'tollgate.notification_preferences': readOnly(
    {
      anon: DENIED,
      other: sees('other'),
      owner: sees('owner'),
      admin: sees('other', 'owner'),
      service_role: sees('other', 'owner'),
    },
    probePreferences,
  ),
  'tollgate.notifications': readOnly(
    {
      anon: DENIED,
      other: sees('other'),
      owner: sees('owner'),
      admin: sees('other', 'owner'),
      service_role: sees('other', 'owner'),
    },
    probeNotifications,
  ),
  'tollgate.usage': readOnly(
    {
      anon: DENIED,
      other: sees(...USAGE.other),
      owner: sees(...USAGE.owner),
      admin: sees(...USAGE.other, ...USAGE.owner),
      service_role: sees(...USAGE.other, ...USAGE.owner),
    },
    probeUsage,
    NOT_UPDATABLE,
  ),
  'tollgate_private.api_key_secrets': PRIVATE,
  'tollgate_private.audit_log': PRIVATE,
  'tollgate_private.coupon_redemptions': PRIVATE,
  'tollgate_private.coupons': PRIVATE,
  'tollgate_private.customers': PRIVATE,
  'tollgate_private.email_outbox': PRIVATE,
  'tollgate_private.failed_payments': PRIVATE_VIEW,
  'tollgate_private.metrics_daily': PRIVATE,
  'tollgate_private.mrr_by_plan': PRIVATE_VIEW,
  'tollgate_private.plan_prices': PRIVATE,
  'tollgate_private.product_prices': PRIVATE,
  'tollgate_private.provider_actions': PRIVATE,
  'tollgate_private.provider_refs': PRIVATE,
  'tollgate_private.revenue_by_month': PRIVATE_VIEW,
  'tollgate_private.refund_requests': PRIVATE,
  'tollgate_private.settings': PRIVATE,
  'tollgate_private.subscriptions_by_status': PRIVATE_VIEW,
  'tollgate_private.usage_counters': PRIVATE,
  'tollgate_private.usage_events': PRIVATE,
  'tollgate_private.webhook_events': PRIVATE,
}

const describeOutcome = (outcome: Outcome): string =>
  'denied' in outcome ? `denied (${outcome.denied})` : `sees [${outcome.sees.join(', ')}]`

const cases = relations.flatMap((relation) =>
  ROLES.flatMap((role) =>
    OPS.map((op) => {
      const outcome = EXPECTED[relation.name]?.[op][role]
      return {
        ...relation,
        role,
        op,
        outcome,
        expected: outcome ? describeOutcome(outcome) : 'no expectation',
      }
    }),
  ),
)

const statement = (op: Op, qualified: string, firstColumn: string): string => {
  switch (op) {
    case 'select':
      return `select from ${qualified} limit 1`
    case 'insert':
      return `insert into ${qualified} default values`
    case 'update':
      // The privilege check comes before any row is read, so `where false` still needs the grant.
      return `update ${qualified} set ${firstColumn} = ${firstColumn} where false`
    case 'delete':
      return `delete from ${qualified} where false`
  }
}

describe('row-level security and grants', () => {
  it('has an expectation for exactly the tables and views of tollgate and tollgate_private', () => {
    expect(relations.map((r) => r.name)).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(cases)(
    '$role $op on $name: $expected',
    async ({ name, qualified, firstColumn, role, op, outcome }) => {
      if (!outcome || !fixture) throw new Error(`no expectation for ${name} (add it to EXPECTED)`)
      const scene: Scene = { ...fixture, hiddenPlan: `hidden-${randomUUID().slice(0, 8)}` }
      // An inactive plan (with a limit) and an inactive product (with a member discount) that only
      // admins and the service role may see; a purchase, its credits and an API key for each fixture user.
      const addHiddenPlan = async (tx: Tx): Promise<void> => {
        await tx`
          insert into tollgate.plans (id, name, active)
          values (${scene.hiddenPlan}, 'Hidden', false)`
        await tx`
          insert into tollgate.plan_limits (plan_id, metric, quota, period)
          values (${scene.hiddenPlan}, 'api_calls', 5, 'month')`
        await tx`
          insert into tollgate.products (id, name, amount, metric, credits, active)
          values (${scene.hiddenPlan}, 'Hidden', 100, 'api_calls', 10, false)`
        await tx`
          insert into tollgate.member_discounts (plan_id, product_id, percent_off)
          values (${scene.hiddenPlan}, ${scene.hiddenPlan}, 5)`
        for (const user of [scene.owner.id, scene.other.id]) {
          const [purchase] = await tx<{ id: string }[]>`
            insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid)
            values (${user}, 'api_calls_pack', 'internal', 'usd', 1000)
            returning id`
          await tx`
            insert into tollgate.credit_balances (user_id, metric, granted, remaining, source, purchase_id)
            values (${user}, 'api_calls', 10, 10, 'purchase', ${purchase!.id})`
          await tx`
            insert into tollgate.api_keys (user_id, name, prefix, scopes)
            values (${user}, 'probe', ${'tg_' + randomUUID().replaceAll('-', '').slice(0, 12)}, '{read}')`
        }
      }
      const claims = claimsOf(fixture, role)

      if ('denied' in outcome) {
        const error = await pgError(
          asCallerAfter(sql, claims, addHiddenPlan, (tx) =>
            tx.unsafe(statement(op, qualified, firstColumn)).execute(),
          ),
        )
        expect(error.code).toBe(outcome.denied)
        return
      }

      const probe = EXPECTED[name]?.probe
      if (!probe) throw new Error(`${name} needs a probe to check which rows ${role} sees`)
      const seen = await asCallerAfter(sql, claims, addHiddenPlan, (tx) => probe(tx, scene))
      expect(seen).toEqual(sorted(outcome.sees))
    },
  )
})
