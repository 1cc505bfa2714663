create function tollgate_private.tg_invoices__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid;
begin
  -- A past_due Stripe subscription is paid until the end of its last paid invoice's service period
  -- when that comes before its current_period_start (entitlement: a renewal failed more than once).
  -- A paid invoice recorded, linked or moved after the subscription's own change therefore moves
  -- what the user is entitled to: the counters follow at once, as on a subscription change.
  select s.user_id into v_user_id
  from tollgate.subscriptions s
  where s.id = new.subscription_id and s.provider = 'stripe' and s.status = 'past_due';
  if v_user_id is not null then
    perform tollgate_private.sync_usage_counters(v_user_id, now());
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_invoices__sync_usage() is
  E'Trigger: when a paid invoice of a past_due Stripe subscription is recorded, linked to it or given another service period, moves the user''s usage counters to what they are now entitled to (entitlement counts the grace from the end of the last paid period).';

revoke all on function tollgate_private.tg_invoices__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after insert on tollgate.invoices
  for each row
  when (new.status = 'paid' and new.subscription_id is not null)
  execute function tollgate_private.tg_invoices__sync_usage();

create trigger _500_sync_usage_on_update
  after update of status, subscription_id, period_end on tollgate.invoices
  for each row
  when (new.status = 'paid' and new.subscription_id is not null
    and (old.status is distinct from new.status or old.subscription_id is distinct from new.subscription_id
      or old.period_end is distinct from new.period_end))
  execute function tollgate_private.tg_invoices__sync_usage();
