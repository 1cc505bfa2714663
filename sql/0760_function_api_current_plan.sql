create function tollgate.current_plan()
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.plan_of_caller();
end;
$$;

comment on function tollgate.current_plan() is
  E'Your plan id now (free without a live subscription). Stable: in your own RLS policies write (select tollgate.current_plan()) so Postgres runs it once per statement, not once per row.';

revoke all on function tollgate.current_plan() from public, anon, authenticated, service_role;

grant execute on function tollgate.current_plan() to authenticated, service_role;
