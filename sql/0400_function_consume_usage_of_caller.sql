create function tollgate_private.consume_usage_of_caller(
  metric text,
  amount bigint,
  idempotency_key text,
  metadata jsonb default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('consume usage');
begin
  -- The caller never chooses the time: a client must not move its own period.
  return tollgate_private.consume_usage(
    v_user_id, consume_usage_of_caller.metric, consume_usage_of_caller.amount,
    consume_usage_of_caller.idempotency_key, now(), consume_usage_of_caller.metadata);
end;
$$;

comment on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) is
  E'consume_usage for the signed-in caller (auth.uid()) at the current time; what tollgate.consume_usage runs. Anonymous users (JWT is_anonymous) are refused with ANONY.';

revoke all on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) to authenticated;
