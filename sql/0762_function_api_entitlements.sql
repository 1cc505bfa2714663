create function tollgate.entitlements()
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.entitlements_of_caller();
end;
$$;

comment on function tollgate.entitlements() is
  E'Everything your app needs to decide what you may do, in one call: {plan_id, status (of the subscription giving the plan; null on free), features (text array), usage (the rows of tollgate.usage)}.';

revoke all on function tollgate.entitlements() from public, anon, authenticated, service_role;

grant execute on function tollgate.entitlements() to authenticated, service_role;
