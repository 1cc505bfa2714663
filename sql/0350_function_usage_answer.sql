create function tollgate_private.usage_answer(allowed boolean, metric text, counter tollgate_private.usage_counters)
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
    'period_end', (usage_answer.counter).period_end
  );
end;
$$;

comment on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters) is
  E'The answer consume_usage and release_usage return: {allowed, metric, used, quota, remaining, period_end}; remaining is null when unlimited.';

revoke all on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters) from public, anon, authenticated, service_role;
