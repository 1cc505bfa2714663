create function tollgate_private.tg_settings__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- The grace moves valid_until (entitlement: paid_until plus past_due_grace), which apply_usage
  -- and usage_rows trust while it has not passed: mark every counter that has one for a re-check,
  -- as an edited plan limit does (0520). A counter without one (free, a Stripe plan renewing by
  -- itself) does not depend on the grace.
  update tollgate_private.usage_counters c
  set valid_until = '-infinity'
  where c.valid_until is not null;
  return null;
end;
$$;

comment on function tollgate_private.tg_settings__sync_usage() is
  E'Trigger: when an admin changes past_due_grace, makes every usage counter with a valid_until pick up the new grace at its next use (the writers and usage_rows trust a counter until its valid_until).';

revoke all on function tollgate_private.tg_settings__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after update of past_due_grace on tollgate_private.settings
  for each row
  when (old.past_due_grace is distinct from new.past_due_grace)
  execute function tollgate_private.tg_settings__sync_usage();
