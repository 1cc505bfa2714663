create function tollgate_private.admin_grant_credits(
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
  if admin_grant_credits.idempotency_key is not null then
    if length(admin_grant_credits.idempotency_key) not between 1 and 255 then
      perform tollgate_private.raise_error('BADKY', 'The idempotency key must be 1 to 255 characters');
    end if;
    -- One grant per user and key, also when two retries arrive at once.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'admin_grant_credits:' || admin_grant_credits.user_id::text || ':' || admin_grant_credits.idempotency_key, 0));
    select g.* into v_grant from tollgate.credit_balances g
    where g.user_id = admin_grant_credits.user_id and g.idempotency_key = admin_grant_credits.idempotency_key;
    if v_grant.id is not null then
      if (v_grant.metric, v_grant.granted, v_grant.expires_at)
        is distinct from (admin_grant_credits.metric, admin_grant_credits.amount, admin_grant_credits.expires_at) then
        perform tollgate_private.raise_error('IDKEY',
          'This idempotency key was used for a different grant',
          detail => format('grant %s: %s %s', v_grant.id, v_grant.granted, v_grant.metric));
      end if;
      return to_jsonb(v_grant);
    end if;
  end if;
  if admin_grant_credits.expires_at is not null and admin_grant_credits.expires_at <= now() then
    perform tollgate_private.raise_error('BADRQ', 'expires_at must be in the future (or null: never)');
  end if;
  v_grant := tollgate_private.grant_credits(admin_grant_credits.user_id, admin_grant_credits.metric,
    admin_grant_credits.amount, admin_grant_credits.expires_at, 'admin', null, admin_grant_credits.reason);
  if admin_grant_credits.idempotency_key is not null then
    update tollgate.credit_balances g set idempotency_key = admin_grant_credits.idempotency_key
    where g.id = v_grant.id
    returning g.* into v_grant;
  end if;
  perform tollgate_private.audit('credit_balances', v_grant.id, v_grant.user_id, 'insert', null,
    jsonb_build_object('metric', v_grant.metric, 'granted', v_grant.granted, 'expires_at', v_grant.expires_at),
    'admin: ' || admin_grant_credits.reason);
  return to_jsonb(v_grant);
end;
$$;

comment on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) is
  E'What tollgate.admin_grant_credits runs: credits of a metric for a user in the credit store (source admin, with the reason), usable after the plan''s quota until expires_at (null = never). Audited with the actor and reason. With an idempotency_key, a retry answers the first grant and grants nothing (IDKEY when the key was used for another grant of the user).';

revoke all on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.admin_grant_credits(uuid, text, bigint, timestamptz, text, text) to authenticated, service_role;
