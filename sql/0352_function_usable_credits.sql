create function tollgate_private.usable_credits(user_id uuid, metric text, as_of timestamptz)
returns bigint
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- The partial index (user_id, metric, expires_at) where remaining > 0 holds exactly the candidates.
  return coalesce((
    select sum(g.remaining)
    from tollgate.credit_balances g
    where g.user_id = usable_credits.user_id
      and g.metric = usable_credits.metric
      and g.remaining > 0
      and g.revoked_at is null
      and (g.expires_at is null or g.expires_at > usable_credits.as_of)
  ), 0)::bigint;
end;
$$;

comment on function tollgate_private.usable_credits(uuid, text, timestamptz) is
  E'The credits of a metric a user can still use at as_of: remaining of grants not revoked and not expired (expires_at null or after as_of). Reads only, takes no lock.';

revoke all on function tollgate_private.usable_credits(uuid, text, timestamptz) from public, anon, authenticated, service_role;
