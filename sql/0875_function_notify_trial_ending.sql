create function tollgate_private.notify_trial_ending(subscription_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_sub tollgate.subscriptions;
  v_plan tollgate.plans;
begin
  select s.* into v_sub from tollgate.subscriptions s where s.id = notify_trial_ending.subscription_id;
  if v_sub.id is null or v_sub.status <> 'trialing' or v_sub.trial_end is null or v_sub.trial_end <= now() then
    return null;
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = v_sub.plan_id;
  return tollgate_private.notify(v_sub.user_id, 'trial_ending',
    'trial_ending:' || v_sub.id::text || ':' || extract(epoch from v_sub.trial_end)::text,
    format('Your %s trial ends on %s', coalesce(v_plan.name, v_sub.plan_id),
      pg_catalog.to_char(v_sub.trial_end at time zone 'UTC', 'FMMonth FMDD, YYYY')),
    'Add a payment method to keep your plan when the trial ends.',
    jsonb_build_object('plan_id', v_sub.plan_id, 'plan_name', v_plan.name,
      'trial_end', v_sub.trial_end, 'subscription_id', v_sub.id));
end;
$$;

comment on function tollgate_private.notify_trial_ending(uuid) is
  E'Notifies trial_ending for a subscription still in a trial that has not ended, once per trial end: Stripe''s customer.subscription.trial_will_end and maintenance''s own reminder 3 days ahead write the same dedupe key, so the user hears once. Returns the new notification''s id, or null.';

revoke all on function tollgate_private.notify_trial_ending(uuid) from public, anon, authenticated, service_role;
