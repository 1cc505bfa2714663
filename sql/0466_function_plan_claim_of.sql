create function tollgate_private.plan_claim_of(user_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if plan_claim_of.user_id is null then
    return tollgate_private.free_plan_id();
  end if;
  return (select e.plan_id from tollgate_private.entitlement(plan_claim_of.user_id, now()) e);
end;
$$;

comment on function tollgate_private.plan_claim_of(uuid) is
  E'The plan id a user is entitled to now, for the tollgate_plan claim the custom access token hook adds. Executable by supabase_auth_admin (Supabase Auth) only.';

revoke all on function tollgate_private.plan_claim_of(uuid) from public, anon, authenticated, service_role;

grant usage on schema tollgate_private to supabase_auth_admin;
grant execute on function tollgate_private.plan_claim_of(uuid) to supabase_auth_admin;
