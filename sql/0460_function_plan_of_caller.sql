create function tollgate_private.plan_of_caller()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    return tollgate_private.free_plan_id();
  end if;
  return (select e.plan_id from tollgate_private.entitlement(v_user_id, now()) e);
end;
$$;

comment on function tollgate_private.plan_of_caller() is
  E'The plan the signed-in caller is entitled to now (their live subscription''s plan, else free; free for a caller who is no user, such as the service role). What tollgate.current_plan and has_feature run.';

revoke all on function tollgate_private.plan_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.plan_of_caller() to authenticated, service_role;
