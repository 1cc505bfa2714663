create function tollgate_private.consume_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz,
  metadata jsonb default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if consume_usage.amount is null or consume_usage.amount <= 0 then
    perform tollgate_private.raise_error('INAMT', 'amount must be a whole number greater than 0',
      detail => format('got %s', coalesce(consume_usage.amount::text, 'null')));
  end if;
  return tollgate_private.record_usage(
    consume_usage.user_id, consume_usage.metric, consume_usage.amount, consume_usage.idempotency_key,
    consume_usage.as_of, consume_usage.metadata);
end;
$$;

comment on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz, jsonb) is
  E'Consumes amount of a metric for a user at as_of, the plan''s quota first and then credits (see apply_usage): {allowed, metric, used, quota, remaining, period_end, credits_remaining, credits_drawn}. Refused calls count nothing and draw nothing; a repeated idempotency key counts once. For the service role, tests and triggers; clients call tollgate.consume_usage.';

revoke all on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz, jsonb) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz, jsonb) to service_role;
