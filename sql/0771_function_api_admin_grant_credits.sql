create function tollgate.admin_grant_credits(user_id uuid, metric text, amount bigint, expires_at timestamptz, reason text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.admin_grant_credits(admin_grant_credits.user_id, admin_grant_credits.metric, admin_grant_credits.amount, admin_grant_credits.expires_at, admin_grant_credits.reason);
end;
$$;

comment on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text) is
  E'Gives the user amount credits of metric, used after the plan''s quota, until expires_at (null = never); returns the grant (a tollgate.credit_balances row). Audited with you and the reason. Admins and the service role only (others 403 NOADM).';

revoke all on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.admin_grant_credits(uuid, text, bigint, timestamptz, text) to authenticated, service_role;
