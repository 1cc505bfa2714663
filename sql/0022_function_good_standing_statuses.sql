-- The one home of the statuses of a subscription that is not behind on payment: immutable, folded
-- into a constant array wherever a query calls it (see 0020_function_live_statuses.sql).
create function tollgate_private.good_standing_statuses()
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return array['trialing', 'active']::text[];
end;
$$;

comment on function tollgate_private.good_standing_statuses() is
  E'The statuses of a subscription in good standing (trialing, active): its period (or trial) runs and nothing is owed, so it is never replaced before current_period_end, and a one-off one falls due when that passes.';

revoke all on function tollgate_private.good_standing_statuses() from public, anon, authenticated, service_role;
