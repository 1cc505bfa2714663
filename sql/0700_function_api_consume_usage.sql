create function tollgate.consume_usage(
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
  return tollgate_private.consume_usage_of_caller(consume_usage.metric, consume_usage.amount,
    consume_usage.idempotency_key, consume_usage.metadata);
end;
$$;

comment on function tollgate.consume_usage(text, bigint, text, jsonb) is
  E'Counts amount (> 0) of a metric against the signed-in user''s quota, then their credits of the metric once the quota is spent (earliest expiry first): returns {allowed, metric, used, quota, remaining, period_end, credits_remaining, credits_drawn}. Atomic (no overdraw of quota or credits at any concurrency); a refused call counts nothing and draws nothing; the same idempotency_key twice counts once and returns the first answer. metadata (a JSON object, at most 4096 characters) is stored on the ledger row, for usage_history and exports.';

revoke all on function tollgate.consume_usage(text, bigint, text, jsonb) from public, anon, authenticated, service_role;

grant execute on function tollgate.consume_usage(text, bigint, text, jsonb) to authenticated;
