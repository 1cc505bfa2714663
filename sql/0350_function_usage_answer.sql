create function tollgate_private.usage_answer(
  allowed boolean,
  metric text,
  counter tollgate_private.usage_counters,
  credits_remaining bigint default 0,
  credits_drawn bigint default 0
)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql, not sql: a SQL function with a pinned search_path is planned again on every call.
  return jsonb_build_object(
    'allowed', usage_answer.allowed,
    'metric', usage_answer.metric,
    'used', coalesce((usage_answer.counter).used, 0),
    'quota', coalesce((usage_answer.counter).quota, 0),
    'remaining', case
      when (usage_answer.counter).quota = -1 then null
      else greatest(coalesce((usage_answer.counter).quota, 0) - coalesce((usage_answer.counter).used, 0), 0)
    end,
    'period_end', (usage_answer.counter).period_end,
    'credits_remaining', coalesce(usage_answer.credits_remaining, 0),
    'credits_drawn', coalesce(usage_answer.credits_drawn, 0)
  );
end;
$$;

comment on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters, bigint, bigint) is
  E'The answer consume_usage and release_usage return: {allowed, metric, used, quota, remaining, period_end, credits_remaining, credits_drawn}; remaining (the plan''s quota left) is null when unlimited; credits_remaining is the usable credits of the metric after the call, credits_drawn how much of this call they paid.';

revoke all on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters, bigint, bigint) from public, anon, authenticated, service_role;
