create function tollgate_private.entitlements_of_caller()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
  v_entitlement record;
  v_status text;
begin
  if v_user_id is null then
    return jsonb_build_object(
      'plan_id', tollgate_private.free_plan_id(),
      'status', null,
      'features', coalesce((
        select jsonb_agg(f.feature order by f.feature)
        from tollgate.plan_features f where f.plan_id = tollgate_private.free_plan_id()), '[]'::jsonb),
      'usage', '[]'::jsonb);
  end if;
  select e.* into v_entitlement from tollgate_private.entitlement(v_user_id, now()) e;
  select s.status into v_status from tollgate.subscriptions s where s.id = v_entitlement.subscription_id;
  return jsonb_build_object(
    'plan_id', v_entitlement.plan_id,
    'status', v_status,
    'features', coalesce((
      select jsonb_agg(f.feature order by f.feature)
      from tollgate.plan_features f where f.plan_id = v_entitlement.plan_id), '[]'::jsonb),
    'usage', coalesce((
      select jsonb_agg(jsonb_build_object(
        'metric', r.metric, 'period', r.period, 'period_start', r.period_start,
        'period_end', r.period_end, 'used', r.used, 'quota', r.quota, 'remaining', r.remaining,
        'credits', r.credits)
        order by r.metric)
      from tollgate_private.usage_rows(v_user_id, now()) r), '[]'::jsonb));
end;
$$;

comment on function tollgate_private.entitlements_of_caller() is
  E'What tollgate.entitlements answers: the caller''s plan, the status of the subscription giving it (null on free), the plan''s features and the usage rows of tollgate.usage, read once.';

revoke all on function tollgate_private.entitlements_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.entitlements_of_caller() to authenticated, service_role;
