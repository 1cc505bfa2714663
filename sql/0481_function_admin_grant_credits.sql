create function tollgate_private.admin_grant_credits(
  user_id uuid,
  metric text,
  amount bigint,
  expires_at timestamptz,
  reason text
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_grant tollgate.credit_balances;
begin
  perform tollgate_private.require_admin('admin_grant_credits');
  perform tollgate_private.require_reason(admin_grant_credits.reason);
  if not exists (select from auth.users u where u.id = admin_grant_credits.user_id) then
    perform tollgate_private.raise_error('NOUSR',
      format('Unknown user %s', coalesce(admin_grant_credits.user_id::text, '(null)')));
  end if;
  if admin_grant_credits.expires_at is not null and admin_grant_credits.expires_at <= now() then
    perform tollgate_private.raise_error('BADRQ', 'expires_at must be in the future (or null: never)');
  end if;
  v_grant := tollgate_private.grant_credits(admin_grant_credits.user_id, admin_grant_credits.metric,
    admin_grant_credits.amount, admin_grant_credits.expires_at, 'admin', null, admin_grant_credits.reason);
  perform tollgate_private.audit('credit_balances', v_grant.id, v_grant.user_id, 'insert', null,
    jsonb_build_object('metric', v_grant.metric, 'granted', v_grant.granted, 'expires_at', v_grant.expires_at),
    'admin: ' || admin_grant_credits.reason);
  return to_jsonb(v_grant);
end;
$$;

comment on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text) is
  E'What tollgate.admin_grant_credits runs: credits of a metric for a user in the credit store (source admin, with the reason), usable after the plan''s quota until expires_at (null = never). Audited with the actor and reason.';

revoke all on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text) to authenticated, service_role;
