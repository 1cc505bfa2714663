create function tollgate_private.admin_reset_usage(user_id uuid, metric text, reason text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_counter tollgate_private.usage_counters;
begin
  perform tollgate_private.require_admin('admin_reset_usage');
  perform tollgate_private.require_reason(admin_reset_usage.reason);
  if not exists (select from auth.users u where u.id = admin_reset_usage.user_id) then
    perform tollgate_private.raise_error('NOUSR',
      format('Unknown user %s', coalesce(admin_reset_usage.user_id::text, '(null)')));
  end if;
  if not exists (select from tollgate.plan_limits l where l.metric = admin_reset_usage.metric) then
    perform tollgate_private.raise_error('NOMET', format('Unknown metric %s', admin_reset_usage.metric));
  end if;

  select c.* into v_counter
  from tollgate_private.usage_counters c
  where c.user_id = admin_reset_usage.user_id and c.metric = admin_reset_usage.metric
  for update;
  if v_counter.period = 'never' then
    -- A gauge counts what exists (rows, storage): zeroing it would let the user past the limit.
    perform tollgate_private.raise_error('BADRQ',
      format('%s never resets: it counts what exists, so it cannot be reset', admin_reset_usage.metric),
      hint => 'Delete what it counts, or grant a bigger plan.');
  end if;
  if v_counter.user_id is null or v_counter.used = 0
    or (v_counter.period_end is not null and v_counter.period_end <= now()) then
    -- Nothing counted in the current period: nothing to reset, nothing audited.
    return jsonb_build_object('metric', admin_reset_usage.metric, 'used_before', 0, 'used', 0);
  end if;

  update tollgate_private.usage_counters c
  set used = 0, updated_at = now()
  where c.user_id = v_counter.user_id and c.metric = v_counter.metric;
  -- The ledger keeps adding up to the counter: the reset is a release of the period's count,
  -- marked so usage_history (what was consumed) leaves it out.
  insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start, metadata)
  values (v_counter.user_id, v_counter.metric, -v_counter.used, true, v_counter.period_start,
    jsonb_build_object('admin_reset', true, 'reason', admin_reset_usage.reason));
  perform tollgate_private.audit('usage_counters', v_counter.user_id, v_counter.user_id, 'update',
    jsonb_build_object('metric', v_counter.metric, 'used', v_counter.used,
      'period_start', v_counter.period_start, 'period_end', v_counter.period_end),
    jsonb_build_object('metric', v_counter.metric, 'used', 0),
    'admin: ' || admin_reset_usage.reason);
  return jsonb_build_object('metric', v_counter.metric, 'used_before', v_counter.used, 'used', 0);
end;
$$;

comment on function tollgate_private.admin_reset_usage(uuid, text, text) is
  E'What tollgate.admin_reset_usage runs: sets the current period''s usage of a resetting metric back to 0 (gauges refuse: BADRQ) with a ledger row of minus the old count (metadata admin_reset, so usage_history leaves it out), audited with the old count, the actor and the reason (the audit row''s record_id is the user). Answers {metric, used_before, used}.';

revoke all on function tollgate_private.admin_reset_usage(uuid, text, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.admin_reset_usage(uuid, text, text) to authenticated, service_role;
