create function tollgate_private.prepare_plan_change(user_id uuid, plan_id text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_live jsonb := tollgate_private.live_subscription_of(prepare_plan_change.user_id);
begin
  if v_live is null then
    raise exception 'You have no live subscription to change' using errcode = 'NOSUB',
      hint = 'Use /billing/checkout to subscribe.';
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = prepare_plan_change.plan_id;
  if v_plan.id is null then
    raise exception 'Unknown plan %', prepare_plan_change.plan_id using errcode = 'NOPLN';
  end if;
  if not v_plan.active or v_plan.amount = 0 then
    raise exception 'Plan % cannot be switched to', v_plan.id using errcode = 'PLINA',
      hint = case when v_plan.amount = 0 then 'Use /billing/checkout with the free plan, or /billing/cancel.' end;
  end if;
  if v_live ->> 'plan_id' = v_plan.id then
    raise exception 'You are already on plan %', v_plan.id using errcode = 'SAMEP';
  end if;
  if v_live ->> 'provider' <> 'stripe' then
    raise exception 'A % subscription cannot change plan in place', v_live ->> 'provider' using errcode = 'NOCHG',
      hint = 'Check out the new plan instead.';
  end if;
  if v_plan.stripe_price_id is null then
    raise exception 'Plan % has no Stripe price', v_plan.id using errcode = 'PLINA';
  end if;
  return jsonb_build_object('plan', to_jsonb(v_plan), 'live', v_live);
end;
$$;

comment on function tollgate_private.prepare_plan_change(uuid, text) is
  E'Checks a plan change of the user''s live Stripe subscription (NOSUB, NOPLN, PLINA, SAMEP, NOCHG) and returns the new plan and the live subscription with its Stripe ids.';

revoke all on function tollgate_private.prepare_plan_change(uuid, text) from public, anon, authenticated, service_role;
