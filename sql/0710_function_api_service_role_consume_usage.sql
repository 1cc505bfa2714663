create function tollgate.service_role_consume_usage(
  user_id uuid,
  metric text,
  amount bigint default 1,
  idempotency_key text default null,
  metadata jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return tollgate_private.consume_usage(
    service_role_consume_usage.user_id, service_role_consume_usage.metric, service_role_consume_usage.amount,
    service_role_consume_usage.idempotency_key, now(), service_role_consume_usage.metadata);
end;
$$;

comment on function tollgate.service_role_consume_usage(uuid, text, bigint, text, jsonb) is
  E'consume_usage for any user, for trusted servers holding the service role key. metadata (a JSON object, at most 4096 characters) is stored on the ledger row, for usage_history and exports.';

revoke all on function tollgate.service_role_consume_usage(uuid, text, bigint, text, jsonb) from public, anon, authenticated, service_role;

grant execute on function tollgate.service_role_consume_usage(uuid, text, bigint, text, jsonb) to service_role;
