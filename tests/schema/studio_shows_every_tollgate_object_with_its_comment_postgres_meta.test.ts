import { PostgresMeta } from '@supabase/postgres-meta'
import { afterAll, describe, expect, inject, it } from 'vitest'

// What an admin sees in Supabase Studio comes from postgres-meta, Studio's own backend: ask it, as
// Studio does, connected as the owner role Studio uses.
const meta = new PostgresMeta({ connectionString: inject('databaseUrl'), max: 1 })
afterAll(() => meta.end())

const SCHEMAS = ['tollgate', 'tollgate_private']

const ok = <T>(answer: { data: T | null; error: { message: string } | null }): T => {
  if (answer.error || answer.data === null) throw new Error(answer.error?.message ?? 'no data')
  return answer.data
}

describe('Supabase Studio (postgres-meta) shows Tollgate to an admin', () => {
  it('lists every table with its comment, RLS on, and every column commented', async () => {
    const tables = ok(await meta.tables.list({ includedSchemas: SCHEMAS, includeColumns: true }))
    expect(tables.length).toBeGreaterThanOrEqual(20)
    const names = tables.map((t) => `${t.schema}.${t.name}`)
    for (const expected of ['tollgate.plans', 'tollgate.purchases', 'tollgate.credit_balances', 'tollgate.plan_features', 'tollgate_private.audit_log', 'tollgate_private.metrics_daily']) {
      expect(names).toContain(expected)
    }
    const uncommented = tables.flatMap((t) => [
      ...(t.comment ? [] : [`${t.schema}.${t.name}`]),
      ...(t.columns ?? []).filter((c) => !c.comment).map((c) => `${t.schema}.${t.name}.${c.name}`),
    ])
    expect(uncommented).toEqual([])
    expect(tables.filter((t) => !t.rls_enabled).map((t) => t.name)).toEqual([])
  })

  it('lists the admin views and the usage view, each commented down to its columns', async () => {
    const views = ok(await meta.views.list({ includedSchemas: SCHEMAS, includeColumns: true }))
    expect(views.map((v) => `${v.schema}.${v.name}`).sort()).toEqual([
      'tollgate.usage',
      'tollgate_private.failed_payments',
      'tollgate_private.mrr_by_plan',
      'tollgate_private.revenue_by_month',
      'tollgate_private.subscriptions_by_status',
    ])
    const uncommented = views.flatMap((v) => [
      ...(v.comment ? [] : [`${v.schema}.${v.name}`]),
      ...(v.columns ?? []).filter((c) => !c.comment).map((c) => `${v.schema}.${v.name}.${c.name}`),
    ])
    expect(uncommented).toEqual([])
  })

  it('lists the policies of every exposed table, and the functions an admin calls', async () => {
    const policies = ok(await meta.policies.list({ includedSchemas: SCHEMAS }))
    const covered = new Set(policies.filter((p) => p.schema === 'tollgate').map((p) => p.table))
    for (const table of ['plans', 'subscriptions', 'invoices', 'purchases', 'credit_balances', 'products', 'notifications']) {
      expect(covered).toContain(table)
    }
    const functions = ok(await meta.functions.list({ includedSchemas: SCHEMAS }))
    const names = functions.map((f) => `${f.schema}.${f.name}`)
    for (const expected of ['tollgate.admin_metrics', 'tollgate.metrics_history', 'tollgate.has_feature', 'tollgate.custom_access_token_hook', 'tollgate.consume_usage']) {
      expect(names).toContain(expected)
    }
    // postgres-meta's functions carry no comment field (Studio shows the definition instead);
    // tests/schema/every_object_has_a_comment checks those comments in the catalog.
    const metrics = functions.find((f) => f.schema === 'tollgate' && f.name === 'admin_metrics')
    expect(metrics).toMatchObject({ security_definer: false, behavior: 'STABLE', return_type: 'jsonb' })
  })
})
