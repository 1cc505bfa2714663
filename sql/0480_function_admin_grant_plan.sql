create function tollgate_private.admin_grant_plan(user_id uuid, plan_id text, ends_at timestamptz, reason text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_live tollgate.subscriptions;
  v_plan tollgate.plans;
  v_granted tollgate.subscriptions;
begin
  perform tollgate_private.require_admin('admin_grant_plan');
  perform tollgate_private.require_reason(admin_grant_plan.reason);
  if not exists (select from auth.users u where u.id = admin_grant_plan.user_id) then
    perform tollgate_private.raise_error('NOUSR',
      format('Unknown user %s', coalesce(admin_grant_plan.user_id::text, '(null)')));
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = admin_grant_plan.plan_id;
  if v_plan.id is null then
    perform tollgate_private.raise_error('NOPLN', format('Unknown plan %s', admin_grant_plan.plan_id));
  end if;
  if v_plan.id = tollgate_private.free_plan_id() then
    perform tollgate_private.raise_error('BADRQ', 'Everyone without a subscription is on free: there is nothing to grant',
      hint => 'Grant a paid plan.');
  end if;
  if admin_grant_plan.ends_at is null or admin_grant_plan.ends_at <= now()
    or admin_grant_plan.ends_at > now() + interval '10 years' then
    perform tollgate_private.raise_error('BADRQ', 'ends_at must be in the future, at most 10 years ahead',
      hint => 'Pass the moment the granted plan ends.');
  end if;

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = admin_grant_plan.user_id and s.status = any (tollgate_private.live_statuses())
  for update;
  if v_live.provider in ('stripe', 'razorpay') then
    -- A paid subscription stays the one source of what the user pays for: never two live at once.
    perform tollgate_private.raise_error('HASUB',
      format('The user has a live %s subscription (%s)', v_live.provider, v_live.plan_id),
      hint => 'Cancel it first (POST /billing/admin/cancel), then grant the plan.');
  end if;

  perform pg_catalog.set_config('tollgate.audit_reason', 'admin: ' || admin_grant_plan.reason, true);
  if v_live.id is not null then
    -- An earlier grant gives way to this one.
    update tollgate.subscriptions s
    set status = 'canceled', canceled_at = now(), ended_at = now()
    where s.id = v_live.id;
  end if;
  insert into tollgate.subscriptions (
    user_id, plan_id, status, provider, current_period_start, current_period_end, cancel_at_period_end)
  values (admin_grant_plan.user_id, v_plan.id, 'active', 'internal', now(), admin_grant_plan.ends_at, true)
  returning * into v_granted;
  perform pg_catalog.set_config('tollgate.audit_reason', '', true);
  return to_jsonb(v_granted);
end;
$$;

comment on function tollgate_private.admin_grant_plan(uuid, text, timestamptz, text) is
  E'What tollgate.admin_grant_plan runs: an internal subscription of plan_id from now until ends_at (it ends by itself then), replacing an earlier grant; refused (HASUB) while the user has a live Stripe or Razorpay subscription. Audited with the actor and ''admin: <reason>''.';

revoke all on function tollgate_private.admin_grant_plan(uuid, text, timestamptz, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.admin_grant_plan(uuid, text, timestamptz, text) to authenticated, service_role;
