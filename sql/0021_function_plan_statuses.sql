-- The one home of the statuses whose subscription can give its plan: immutable, folded into a
-- constant array wherever a query or a trigger condition calls it (see 0020_function_live_statuses.sql).
create function tollgate_private.plan_statuses()
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return array['trialing', 'active', 'past_due']::text[];
end;
$$;

comment on function tollgate_private.plan_statuses() is
  E'The statuses in which a live subscription can give its plan (trialing, active, past_due, the last one for the grace period); unpaid and paused ones are live but fall back to free.';

revoke all on function tollgate_private.plan_statuses() from public, anon, authenticated, service_role;
