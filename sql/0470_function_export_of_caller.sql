create function tollgate_private.export_of_caller(ledger_page integer default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('export your data', allow_anonymous => true);
  v_page_size constant integer := 1000;
  v_ledger_rows bigint;
  v_pages integer;
  v_ledger jsonb;
begin
  select count(*) into v_ledger_rows from tollgate_private.usage_events e where e.user_id = v_user_id;
  v_pages := greatest(ceil(v_ledger_rows::numeric / v_page_size)::integer, 1);

  if export_of_caller.ledger_page is not null then
    -- One page of the full ledger, oldest first.
    if export_of_caller.ledger_page < 1 or export_of_caller.ledger_page > v_pages then
      perform tollgate_private.raise_error('BADRQ', format('ledger_page must be 1 to %s', v_pages));
    end if;
    return jsonb_build_object('page', export_of_caller.ledger_page, 'pages', v_pages, 'page_size', v_page_size,
      'rows', coalesce((
        select jsonb_agg(to_jsonb(e) - 'user_id' - 'result' order by e.created_at, e.id)
        from (select * from tollgate_private.usage_events e
              where e.user_id = v_user_id
              order by e.created_at, e.id
              offset (export_of_caller.ledger_page - 1) * v_page_size limit v_page_size) e), '[]'::jsonb));
  end if;

  -- The ledger in full when it is small; else a summary per metric and UTC day, and the pages.
  if v_ledger_rows <= v_page_size then
    v_ledger := jsonb_build_object('rows', coalesce((
      select jsonb_agg(to_jsonb(e) - 'user_id' - 'result' order by e.created_at, e.id)
      from tollgate_private.usage_events e where e.user_id = v_user_id), '[]'::jsonb));
  else
    v_ledger := jsonb_build_object(
      'summary', (
        select jsonb_agg(jsonb_build_object('metric', d.metric, 'day', d.day, 'calls', d.calls,
          'counted', d.counted, 'refused', d.refused) order by d.day, d.metric)
        from (
          select e.metric, (e.created_at at time zone 'UTC')::date as day, count(*) as calls,
            coalesce(sum(e.amount) filter (where e.allowed), 0) as counted,
            count(*) filter (where not e.allowed) as refused
          from tollgate_private.usage_events e where e.user_id = v_user_id
          group by 1, 2) d),
      'rows_total', v_ledger_rows,
      'pages', v_pages,
      'page_size', v_page_size,
      'how_to_page', 'select tollgate.export_my_data(ledger_page => 1), 2, ...');
  end if;

  return jsonb_build_object(
    'exported_at', now(),
    'user', (select jsonb_build_object('id', u.id, 'email', u.email, 'created_at', u.created_at)
             from auth.users u where u.id = v_user_id),
    'subscriptions', coalesce((select jsonb_agg(to_jsonb(s) order by s.created_at)
      from tollgate.subscriptions s where s.user_id = v_user_id), '[]'::jsonb),
    'invoices', coalesce((select jsonb_agg(to_jsonb(i) order by i.created_at)
      from tollgate.invoices i where i.user_id = v_user_id), '[]'::jsonb),
    'purchases', coalesce((select jsonb_agg(to_jsonb(p) order by p.created_at)
      from tollgate.purchases p where p.user_id = v_user_id), '[]'::jsonb),
    'credits', coalesce((select jsonb_agg(to_jsonb(g) order by g.created_at)
      from tollgate.credit_balances g where g.user_id = v_user_id), '[]'::jsonb),
    'usage', coalesce((select jsonb_agg(to_jsonb(r) - 'user_id' order by r.metric)
      from tollgate_private.usage_rows(v_user_id, now()) r), '[]'::jsonb),
    'ledger', v_ledger,
    -- Key metadata only: the keys themselves exist nowhere, and their hashes are no one's to read.
    'api_keys', coalesce((select jsonb_agg(to_jsonb(k) - 'user_id' order by k.created_at)
      from tollgate.api_keys k where k.user_id = v_user_id), '[]'::jsonb),
    'notifications', coalesce((select jsonb_agg(to_jsonb(n) order by n.created_at)
      from tollgate.notifications n where n.user_id = v_user_id), '[]'::jsonb),
    'notification_preferences', (select to_jsonb(p) from tollgate.notification_preferences p
      where p.user_id = v_user_id),
    'coupon_redemptions', coalesce((select jsonb_agg(jsonb_build_object('coupon_code', r.coupon_code,
        'plan_id', r.plan_id, 'provider', r.provider, 'status', r.status, 'created_at', r.created_at,
        'redeemed_at', r.redeemed_at) order by r.created_at)
      from tollgate_private.coupon_redemptions r where r.user_id = v_user_id), '[]'::jsonb),
    'payment_accounts', coalesce((select jsonb_agg(jsonb_build_object('provider', c.provider,
        'customer_id', c.provider_customer_id, 'created_at', c.created_at) order by c.provider)
      from tollgate_private.customers c where c.user_id = v_user_id), '[]'::jsonb),
    -- Who changed what about them: the acting role and whether it was themselves, never another
    -- person's id (an admin's identity is that admin's data).
    'audit', coalesce((select jsonb_agg(jsonb_build_object('occurred_at', a.occurred_at,
        'table', a.table_name, 'record_id', a.record_id, 'action', a.action, 'old', a.old_values,
        'new', a.new_values, 'by', case when a.actor_user_id = v_user_id then 'you' else a.actor_role end,
        'reason', a.reason) order by a.occurred_at, a.id)
      from tollgate_private.audit_log a where a.user_id = v_user_id), '[]'::jsonb)
  );
end;
$$;

comment on function tollgate_private.export_of_caller(integer) is
  E'What tollgate.export_my_data runs: every Tollgate row about the signed-in caller as readable JSON; with ledger_page, one page (1000 rows, oldest first) of their usage ledger.';

revoke all on function tollgate_private.export_of_caller(integer) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.export_of_caller(integer) to authenticated;
