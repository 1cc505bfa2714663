create function tollgate.admin_grant_credits(
  user_id uuid,
  metric text,
  amount bigint,
  expires_at timestamptz,
  reason text,
  idempotency_key text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.admin_grant_credits(admin_grant_credits.user_id, admin_grant_credits.metric, admin_grant_credits.amount, admin_grant_credits.expires_at, admin_grant_credits.reason,
    admin_grant_credits.idempotency_key);
end;
$$;

comment on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) is
  E'Gives the user amount credits of metric, used after the plan''s quota, until expires_at (null = never); returns the grant (a tollgate.credit_balances row). Audited with you and the reason. Pass an idempotency_key to make a retry safe: the same key for the same user answers the first grant and grants nothing (IDKEY if it was used for a different grant). Admins and the service role only (others 403 NOADM).';

revoke all on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) to authenticated, service_role;
