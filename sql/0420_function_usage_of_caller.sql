create function tollgate_private.usage_of_caller()
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language sql
stable
security definer
set search_path = ''
as $$
  select r.*
  from (
    select auth.uid() as id
    where auth.uid() is not null
      and not tollgate_private.is_admin()
    union all
    -- Admins and the service role see everyone.
    select u.id
    from auth.users u
    where tollgate_private.is_admin() or auth.role() = 'service_role'
  ) who
  cross join lateral tollgate_private.usage_rows(who.id, now()) r
$$;

comment on function tollgate_private.usage_of_caller() is
  E'Rows of the tollgate.usage view: the caller''s own usage now; every user''s for admins and the service role.';

revoke all on function tollgate_private.usage_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of_caller() to authenticated, service_role;
