import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, type Sql, type Tx } from '../../helpers/db.ts'
import {
  asCallerAfter,
  claimsOf,
  createRlsFixture,
  dropRlsFixture,
  type RlsFixture,
  type Role,
} from './fixture.ts'

let fixture: RlsFixture
it.beforeAll(async ({ sql }) => {
  fixture = await createRlsFixture(sql)
})
it.afterAll(({ sql }) => dropRlsFixture(sql, fixture))

type UsageRow = {
  user_id: string
  metric: string
  period: string
  period_start: Date
  period_end: Date | null
  used: string
  quota: string
  remaining: string | null
  credits: string
}

// What the usage rule computes for these users at the transaction's now(), read by the DB owner.
const computedUsage = (tx: Tx, userIds: string[]): Promise<UsageRow[]> =>
  tx<UsageRow[]>`
    select r.*
    from unnest(${userIds}::uuid[]) as who(id)
    cross join lateral tollgate_private.usage_rows(who.id, now()) r
    order by r.user_id, r.metric`

const viewAs = async (
  sql: Sql,
  role: Role,
  userIds: string[],
): Promise<{ computed: UsageRow[]; seen: UsageRow[]; now: Date }> => {
  let computed: UsageRow[] = []
  let now = new Date(0)
  const seen = await asCallerAfter(
    sql,
    claimsOf(fixture, role),
    async (tx) => {
      computed = await computedUsage(tx, userIds)
      const [row] = await tx<{ now: Date }[]>`select now() as now`
      now = row?.now ?? now
    },
    (tx) => tx<UsageRow[]>`
      select user_id, metric, period, period_start, period_end, used, quota, remaining, credits
      from tollgate.usage
      where user_id = any(${userIds}::uuid[])
      order by user_id, metric`,
  )
  return { computed, seen, now }
}

const byUserThenMetric = (a: UsageRow, b: UsageRow): number =>
  a.user_id === b.user_id ? a.metric.localeCompare(b.metric) : a.user_id.localeCompare(b.user_id)

describe('the usage view', () => {
  it('shows a user on free their own five metrics of plan free', async ({ sql }) => {
    const { seen, now } = await viewAs(sql, 'owner', [fixture.owner.id])
    // A gauge's period starts when its counter was made (or now, when there is none yet).
    const counters = await sql<{ metric: string; period_start: Date }[]>`
      select metric, period_start from tollgate_private.usage_counters
      where user_id = ${fixture.owner.id} and period = 'never'`
    const neverStart = (metric: string): Date =>
      counters.find((c) => c.metric === metric)?.period_start ?? now
    // Free users count calendar months (UTC); requests count UTC hours.
    const hourStart = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000)
    const hourEnd = new Date(hourStart.getTime() + 3_600_000)
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
    const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
    expect(seen).toEqual([
      {
        user_id: fixture.owner.id,
        metric: 'api_calls',
        period: 'month',
        period_start: monthStart,
        period_end: monthEnd,
        used: '0',
        quota: '1000',
        remaining: '1000',
        credits: '0',
      },
      {
        user_id: fixture.owner.id,
        metric: 'api_keys',
        period: 'never',
        period_start: neverStart('api_keys'),
        period_end: null,
        used: '0',
        quota: '2',
        remaining: '2',
        credits: '0',
      },
      {
        user_id: fixture.owner.id,
        metric: 'projects',
        period: 'never',
        period_start: neverStart('projects'),
        period_end: null,
        used: '0',
        quota: '3',
        remaining: '3',
        credits: '0',
      },
      {
        user_id: fixture.owner.id,
        metric: 'requests',
        period: 'hour',
        period_start: hourStart,
        period_end: hourEnd,
        used: '0',
        quota: '100',
        remaining: '100',
        credits: '0',
      },
      {
        user_id: fixture.owner.id,
        metric: 'storage_gb',
        period: 'never',
        period_start: neverStart('storage_gb'),
        period_end: null,
        used: '0',
        quota: '1',
        remaining: '1',
        credits: '0',
      },
    ])
  })

  it("shows a user none of another user's rows, only their own", async ({ sql }) => {
    const { seen, computed } = await viewAs(sql, 'other', [fixture.owner.id, fixture.other.id])
    const own = computed.filter((r) => r.user_id === fixture.other.id)
    expect(own.map((r) => r.metric)).toEqual(['api_calls', 'api_keys', 'projects', 'requests', 'storage_gb'])
    expect(seen).toEqual(own)
  })

  it.for(['admin', 'service_role'] as const)(
    'shows %s the rows of every user, the owner included',
    async (role, { sql }) => {
      const users = [fixture.owner.id, fixture.other.id]
      const { seen, computed } = await viewAs(sql, role, users)
      expect(new Set(seen.map((r) => r.user_id))).toEqual(new Set(users))
      expect(seen.length).toBe(10)
      expect([...seen].sort(byUserThenMetric)).toEqual([...computed].sort(byUserThenMetric))
    },
  )

  it('is not readable by anon (42501)', async ({ sql }) => {
    const error = await pgError(viewAs(sql, 'anon', [fixture.owner.id]))
    expect(error.code).toBe('42501')
  })
})
