create function tollgate_private.tg_subscriptions__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Updates reach here only when the trigger's WHEN clause says the user's entitlement may change.
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
  E'Trigger: when a subscription is added or removed, or changes in a way that can change what its user is entitled to (plan, status, anchor, the end of a paid period that bounds the plan), moves the user''s usage counters to the plan they are now entitled to (carry-over on upgrade, usage kept on downgrade).';

revoke all on function tollgate_private.tg_subscriptions__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after insert or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__sync_usage();

-- An update runs the sync only when it can change tollgate_private.entitlement()'s answer for the
-- user at some moment (plan, anchor or valid_until); the clause reads exactly the columns
-- entitlement() reads, in the cases it reads them (keep the two in step). A renewal that only moves
-- the period of a live Stripe subscription with a billing_cycle_anchor changes none of them: its
-- counters keep their plan, anchor and valid_until, and roll on their own period_end (lazily in
-- apply_usage and usage_rows, or in run_maintenance), as they would without the event.
create trigger _500_sync_usage_on_update
  after update on tollgate.subscriptions
  for each row
  when (
    (old.user_id, old.plan_id, old.status, old.provider, old.billing_cycle_anchor,
     old.cancel_at_period_end, old.trial_end, old.created_at)
      is distinct from
        (new.user_id, new.plan_id, new.status, new.provider, new.billing_cycle_anchor,
         new.cancel_at_period_end, new.trial_end, new.created_at)
    -- From here on both rows agree on the columns above. Only a subscription that can be the
    -- user's plan reads its periods: the month anchor falls back to current_period_start, a
    -- past_due Stripe subscription is paid until its current_period_start (or its last paid
    -- invoice's period end: the invoices trigger, 0552, covers that input), and valid_until follows
    -- current_period_end for past_due, one-off (razorpay, internal) and cancel-at-period-end ones.
    or (new.status = any (tollgate_private.plan_statuses())
      and (((new.billing_cycle_anchor is null or (new.status = 'past_due' and new.provider = 'stripe'))
          and old.current_period_start is distinct from new.current_period_start)
        or ((new.status = 'past_due' or new.provider <> 'stripe' or new.cancel_at_period_end)
          and old.current_period_end is distinct from new.current_period_end)))
  )
  execute function tollgate_private.tg_subscriptions__sync_usage();
