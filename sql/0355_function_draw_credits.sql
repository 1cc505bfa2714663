create function tollgate_private.draw_credits(user_id uuid, metric text, amount bigint, as_of timestamptz)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_usable bigint;
  v_ids uuid[];
  v_left bigint := draw_credits.amount;
  v_grant record;
begin
  -- Lock every usable grant first, in the order they are drawn (earliest expiry first, never-expiring
  -- last, then id). revoke_purchase_credits locks in the same order and callers hold the counter
  -- row already, so two drawers never meet on credit rows and no lock cycle can form. A row
  -- changed while we waited is re-read: a revoked grant drops out (remaining 0).
  select coalesce(sum(u.remaining), 0)::bigint, array_agg(u.id) into v_usable, v_ids
  from (
    select g.id, g.remaining
    from tollgate.credit_balances g
    where g.user_id = draw_credits.user_id
      and g.metric = draw_credits.metric
      and g.remaining > 0
      and g.revoked_at is null
      and (g.expires_at is null or g.expires_at > draw_credits.as_of)
    order by g.expires_at nulls last, g.id
    for update
  ) u;

  -- All or nothing: a call the credits cannot cover draws none of them.
  if draw_credits.amount <= 0 or v_usable < draw_credits.amount then
    return v_usable;
  end if;

  -- Only the grants locked above (a grant committed since is left for the next call); they are ours
  -- until commit, so this read (a new snapshot) sees them as locked.
  for v_grant in
    select g.id, g.remaining
    from tollgate.credit_balances g
    where g.id = any (v_ids)
    order by g.expires_at nulls last, g.id
  loop
    exit when v_left = 0;
    update tollgate.credit_balances g
    set remaining = g.remaining - least(v_grant.remaining, v_left)
    where g.id = v_grant.id;
    v_left := v_left - least(v_grant.remaining, v_left);
  end loop;
  return v_usable;
end;
$$;

comment on function tollgate_private.draw_credits(uuid, text, bigint, timestamptz) is
  E'Draws amount credits of a metric for a user at as_of, earliest expiry first (never-expiring last), all or nothing: returns the usable credits before the call and draws only when they cover amount (amount 0 draws nothing). Locks the usable grants; the caller must hold the user''s counter row first (consume_usage does), the order every writer of credits keeps.';

revoke all on function tollgate_private.draw_credits(uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;
