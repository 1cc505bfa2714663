import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

// Who may call what. A new entry is a deliberate change: every function an API role can execute
// is an entry point a client (or a leaked service key) can reach.
const PRIVATE_ALLOWLIST = [
  'authenticated tollgate_private.admin_grant_credits(uuid,text,bigint,timestamp with time zone,text,text)',
  'authenticated tollgate_private.admin_grant_plan(uuid,text,timestamp with time zone,text)',
  'authenticated tollgate_private.admin_metrics()',
  'authenticated tollgate_private.admin_reset_usage(uuid,text,text)',
  'authenticated tollgate_private.consume_usage_of_caller(text,bigint,text,jsonb)',
  'authenticated tollgate_private.create_api_key_of_caller(text,text[],timestamp with time zone)',
  'authenticated tollgate_private.entitlements_of_caller()',
  'authenticated tollgate_private.export_of_caller(integer)',
  'authenticated tollgate_private.is_admin()',
  // The predicate of subscriptions_one_live_per_user: evaluated as the role reading subscriptions.
  'authenticated tollgate_private.live_statuses()',
  'authenticated tollgate_private.mark_notifications_read_of_caller(uuid[])',
  'authenticated tollgate_private.metrics_history(date,date)',
  'authenticated tollgate_private.plan_of_caller()',
  'authenticated tollgate_private.revoke_api_key_of_caller(uuid)',
  'authenticated tollgate_private.set_notification_preferences_of_caller(text[])',
  'authenticated tollgate_private.usage_history(text,timestamp with time zone,timestamp with time zone,text,uuid)',
  'authenticated tollgate_private.usage_of(uuid)',
  'authenticated tollgate_private.usage_of_caller()',
  'service_role tollgate_private.admin_grant_credits(uuid,text,bigint,timestamp with time zone,text,text)',
  'service_role tollgate_private.admin_grant_plan(uuid,text,timestamp with time zone,text)',
  'service_role tollgate_private.admin_metrics()',
  'service_role tollgate_private.admin_reset_usage(uuid,text,text)',
  'service_role tollgate_private.authenticate_api_key(text,text,timestamp with time zone)',
  'service_role tollgate_private.consume_usage(uuid,text,bigint,text,timestamp with time zone,jsonb)',
  'service_role tollgate_private.entitlements_of_caller()',
  'service_role tollgate_private.is_admin()',
  'service_role tollgate_private.limit_request(uuid,text,timestamp with time zone)',
  'service_role tollgate_private.live_statuses()',
  'service_role tollgate_private.metrics_history(date,date)',
  'service_role tollgate_private.plan_of_caller()',
  'service_role tollgate_private.release_usage(uuid,text,bigint,text,timestamp with time zone)',
  'service_role tollgate_private.usage_history(text,timestamp with time zone,timestamp with time zone,text,uuid)',
  'service_role tollgate_private.usage_of(uuid)',
  'service_role tollgate_private.usage_of_caller()',
]

const API_ALLOWLIST = [
  'authenticated tollgate.admin_grant_credits(uuid,text,bigint,timestamp with time zone,text,text)',
  'authenticated tollgate.admin_grant_plan(uuid,text,timestamp with time zone,text)',
  'authenticated tollgate.admin_metrics()',
  'authenticated tollgate.admin_reset_usage(uuid,text,text)',
  'authenticated tollgate.consume_usage(text,bigint,text,jsonb)',
  'authenticated tollgate.create_api_key(text,text[],timestamp with time zone)',
  'authenticated tollgate.current_plan()',
  'authenticated tollgate.entitlements()',
  'authenticated tollgate.export_my_data(integer)',
  'authenticated tollgate.has_feature(text)',
  'authenticated tollgate.mark_notifications_read(uuid[])',
  'authenticated tollgate.metrics_history(date,date)',
  'authenticated tollgate.revoke_api_key(uuid)',
  'authenticated tollgate.set_notification_preferences(text[])',
  'authenticated tollgate.usage_history(text,timestamp with time zone,timestamp with time zone,text,uuid)',
  'authenticated tollgate.usage_of(uuid)',
  'service_role tollgate.admin_grant_credits(uuid,text,bigint,timestamp with time zone,text,text)',
  'service_role tollgate.admin_grant_plan(uuid,text,timestamp with time zone,text)',
  'service_role tollgate.admin_metrics()',
  'service_role tollgate.admin_reset_usage(uuid,text,text)',
  'service_role tollgate.current_plan()',
  'service_role tollgate.entitlements()',
  'service_role tollgate.has_feature(text)',
  'service_role tollgate.metrics_history(date,date)',
  'service_role tollgate.service_role_consume_usage(uuid,text,bigint,text,jsonb)',
  'service_role tollgate.service_role_limit_request(uuid,text,text,text)',
  'service_role tollgate.service_role_release_usage(uuid,text,bigint,text)',
  'service_role tollgate.usage_history(text,timestamp with time zone,timestamp with time zone,text,uuid)',
  'service_role tollgate.usage_of(uuid)',
]

// has_function_privilege counts grants to PUBLIC too, which every role inherits.
const executable = (schema: string) =>
  sql<{ entry: string }[]>`
    select r.role || ' ' || p.oid::pg_catalog.regprocedure::text as entry
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    cross join unnest(array['anon', 'authenticated', 'service_role']) as r(role)
    where n.nspname = ${schema}
      and pg_catalog.has_function_privilege(r.role, p.oid, 'execute')
    order by 1`

describe('function privileges', () => {
  it('let API roles execute only the allowlisted functions of tollgate_private', async () => {
    const entries = (await executable('tollgate_private')).map((e) => e.entry)
    expect(entries).toEqual(PRIVATE_ALLOWLIST)
  })

  it('let each API function be executed only by the role it is for', async () => {
    const entries = (await executable('tollgate')).map((e) => e.entry)
    expect(entries).toEqual(API_ALLOWLIST)
  })

  it('let Supabase Auth (supabase_auth_admin) execute the token hook and its lookup, nothing else of ours', async () => {
    const entries = await sql<{ entry: string }[]>`
      select p.oid::pg_catalog.regprocedure::text as entry
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('tollgate', 'tollgate_private')
        and pg_catalog.has_function_privilege('supabase_auth_admin', p.oid, 'execute')
      order by 1`
    expect(entries.map((e) => e.entry)).toEqual([
      'tollgate.custom_access_token_hook(jsonb)',
      'tollgate_private.plan_claim_of(uuid)',
    ])
  })

  it('give no API role a function that takes a time argument, admin actions aside', async () => {
    // A client that picks the time could move its own period and reset its quota. Admin actions take
    // an end or expiry date (not a clock) and refuse everyone but admins (NOADM, tested in
    // tests/sql/admin_actions); usage_history takes a range to read and writes nothing; create_api_key takes
    // the key's expiry (refused in the past, BADRQ): they are the listed exceptions.
    const timed = await sql<{ entry: string }[]>`
      select r.role || ' ' || p.oid::pg_catalog.regprocedure::text as entry
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      cross join unnest(array['anon', 'authenticated']) as r(role)
      where n.nspname in ('tollgate', 'tollgate_private')
        and pg_catalog.has_function_privilege(r.role, p.oid, 'execute')
        and pg_catalog.has_schema_privilege(r.role, n.oid, 'usage')
        and p.proname not in ('admin_grant_plan', 'admin_grant_credits', 'metrics_history', 'usage_history',
          'create_api_key', 'create_api_key_of_caller')
        and exists (
          select from unnest(p.proargtypes::oid[]) as t(oid)
          where t.oid in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
            'interval'::regtype, 'time'::regtype, 'timetz'::regtype)
        )
      order by 1`
    expect(timed.map((t) => t.entry)).toEqual([])
  })
})
