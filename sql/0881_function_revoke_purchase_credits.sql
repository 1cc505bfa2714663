create function tollgate_private.revoke_purchase_credits(purchase_id uuid)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_revoked bigint;
begin
  -- Row locks: a consume drawing these credits at the same moment finishes first or sees them gone;
  -- what was drawn stays drawn, only the rest is taken back.
  with revoked as (
    select g.id, g.remaining
    from tollgate.credit_balances g
    where g.purchase_id = revoke_purchase_credits.purchase_id and g.revoked_at is null
    -- The order draw_credits locks grants in: two lockers of the same grants never wait on each other in a cycle.
    order by g.expires_at nulls last, g.id
    for update
  ), done as (
    update tollgate.credit_balances g
    set remaining = 0, revoked_at = now()
    from revoked r
    where g.id = r.id
    returning r.remaining
  )
  select coalesce(sum(d.remaining), 0)::bigint into v_revoked from done d;
  return v_revoked;
end;
$$;

comment on function tollgate_private.revoke_purchase_credits(uuid) is
  E'Takes back the unused credits of a purchase (it was refunded): remaining becomes 0 and revoked_at is set; credits already used stay used. Returns how many credits were taken back; 0 when called again.';

revoke all on function tollgate_private.revoke_purchase_credits(uuid) from public, anon, authenticated, service_role;
