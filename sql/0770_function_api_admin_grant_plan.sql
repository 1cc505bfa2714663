create function tollgate.admin_grant_plan(user_id uuid, plan_id text, ends_at timestamptz, reason text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.admin_grant_plan(admin_grant_plan.user_id, admin_grant_plan.plan_id, admin_grant_plan.ends_at, admin_grant_plan.reason);
end;
$$;

comment on function tollgate.admin_grant_plan(uuid, text, timestamptz, text) is
  E'An internal subscription of plan_id for the user from now until ends_at (it ends by itself then), audited with you and the reason. Refused (409 HASUB) while the user has a live Stripe or Razorpay subscription: cancel it first. Admins and the service role only (others 403 NOADM).';

revoke all on function tollgate.admin_grant_plan(uuid, text, timestamptz, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.admin_grant_plan(uuid, text, timestamptz, text) to authenticated, service_role;
