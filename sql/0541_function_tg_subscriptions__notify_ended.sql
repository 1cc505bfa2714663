create function tollgate_private.tg_subscriptions__notify_ended()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now tollgate.subscriptions;
  v_plan tollgate.plans;
begin
  -- Deferred to commit: the row as it is then, and whether another subscription took its place
  -- in the same transaction (a checkout of another plan ends the old one: that is no ending).
  select s.* into v_now from tollgate.subscriptions s where s.id = new.id;
  if v_now.id is null or v_now.status not in ('canceled', 'incomplete_expired') then
    return null;
  end if;
  if exists (
    select from tollgate.subscriptions s
    where s.user_id = v_now.user_id and s.id <> v_now.id
      and s.status = any (tollgate_private.live_statuses())
  ) then
    return null;
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = v_now.plan_id;
  perform tollgate_private.notify(v_now.user_id, 'subscription_ended',
    'subscription_ended:' || v_now.id::text,
    format('Your %s plan has ended', coalesce(v_plan.name, v_now.plan_id)),
    'You are on the free plan now. You can subscribe again at any time.',
    jsonb_build_object('plan_id', v_now.plan_id, 'plan_name', v_plan.name,
      'ended_at', coalesce(v_now.ended_at, now()), 'subscription_id', v_now.id));
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__notify_ended() is
  E'Constraint trigger, deferred to commit: notifies subscription_ended once when a subscription that held the user''s slot ends (canceled or incomplete_expired) and no other live subscription replaced it in the same transaction.';

revoke all on function tollgate_private.tg_subscriptions__notify_ended() from public, anon, authenticated, service_role;

create constraint trigger _610_notify_ended
  after update on tollgate.subscriptions
  deferrable initially deferred
  for each row
  when (old.status = any (tollgate_private.live_statuses())
    and new.status in ('canceled', 'incomplete_expired'))
  execute function tollgate_private.tg_subscriptions__notify_ended();
