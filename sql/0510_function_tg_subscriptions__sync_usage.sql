create function tollgate_private.tg_subscriptions__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE'
    and (old.user_id, old.plan_id, old.status, old.provider, old.current_period_start, old.current_period_end,
         old.billing_cycle_anchor, old.cancel_at_period_end, old.trial_end, old.created_at)
      is not distinct from
        (new.user_id, new.plan_id, new.status, new.provider, new.current_period_start, new.current_period_end,
         new.billing_cycle_anchor, new.cancel_at_period_end, new.trial_end, new.created_at) then
    return null;
  end if;
  -- Quotas follow the plan at once, in the same transaction as the subscription change.
  -- A user being deleted (the cascade from auth.users) has nothing left to sync.
  if tg_op in ('UPDATE', 'DELETE') and exists (select from auth.users u where u.id = old.user_id) then
    perform tollgate_private.sync_usage_counters(old.user_id, now());
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.user_id <> old.user_id) then
    perform tollgate_private.sync_usage_counters(new.user_id, now());
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__sync_usage() is
  E'Trigger: when a subscription''s plan, status or period changes, moves the user''s usage counters to the plan they are now entitled to (carry-over on upgrade, usage kept on downgrade).';

revoke all on function tollgate_private.tg_subscriptions__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after insert or update or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__sync_usage();
