create function tollgate.usage_history(
  metric text,
  from_ts timestamptz,
  to_ts timestamptz,
  bucket text default 'day',
  user_id uuid default null
)
returns table (bucket_start timestamptz, used bigint)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return query
    select h.bucket_start, h.used
    from tollgate_private.usage_history(usage_history.metric, usage_history.from_ts, usage_history.to_ts,
      usage_history.bucket, usage_history.user_id) h;
end;
$$;

comment on function tollgate.usage_history(text, timestamptz, timestamptz, text, uuid) is
  E'Your usage of a metric over time: one row per bucket (hour, day, week or month; UTC) from from_ts to to_ts, with what was counted in it (0 when nothing; at most 1000 buckets). user_id other than yours: admins and the service role only (others 403 NOADM). The range is what you read, not a clock: it changes no period.';

revoke all on function tollgate.usage_history(text, timestamptz, timestamptz, text, uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate.usage_history(text, timestamptz, timestamptz, text, uuid) to authenticated, service_role;
