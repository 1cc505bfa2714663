create function tollgate_private.limit_request(user_id uuid, metric text, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_answer jsonb;
  v_reset timestamptz;
  v_quota bigint;
begin
  -- One request is one unit of the metric (an hourly one, e.g. requests); a refused request counts nothing.
  v_answer := tollgate_private.consume_usage(limit_request.user_id, limit_request.metric, 1, null,
    limit_request.as_of);
  v_quota := (v_answer ->> 'quota')::bigint;
  -- A metric the plan lacks has no period of its own: its window is the UTC hour.
  v_reset := coalesce((v_answer ->> 'period_end')::timestamptz,
    (date_trunc('hour', limit_request.as_of at time zone 'UTC') + interval '1 hour') at time zone 'UTC');
  return jsonb_build_object(
    'allowed', (v_answer ->> 'allowed')::boolean,
    'limit', v_quota,
    'remaining', case when v_quota = -1 then null
      else coalesce((v_answer ->> 'remaining')::bigint, 0) + coalesce((v_answer ->> 'credits_remaining')::bigint, 0) end,
    'reset', ceil(extract(epoch from v_reset))::bigint,
    'retry_after', case when not (v_answer ->> 'allowed')::boolean
      then greatest(ceil(extract(epoch from v_reset - limit_request.as_of))::bigint, 1) end);
end;
$$;

comment on function tollgate_private.limit_request(uuid, text, timestamptz) is
  E'Counts one request of a user against a metric (an hourly one such as requests) and answers the rate-limit state: {allowed, limit (-1 unlimited), remaining (null when unlimited), reset (Unix seconds when the window ends), retry_after (seconds, when refused)}. A refused request counts nothing. What the metering function and the rateLimit middleware run.';

revoke all on function tollgate_private.limit_request(uuid, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.limit_request(uuid, text, timestamptz) to service_role;
