-- The one home of the id of the plan a user without a live subscription is on (CONTRACT.md: free);
-- the seed creates that plan. Immutable: folded into a constant where a query or expression calls it.
create function tollgate_private.free_plan_id()
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return 'free'::text;
end;
$$;

comment on function tollgate_private.free_plan_id() is
  E'The id of the plan of every user without a live subscription: free.';

revoke all on function tollgate_private.free_plan_id() from public, anon, authenticated, service_role;
