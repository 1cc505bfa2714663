create function tollgate_private.notify_quota(counter tollgate_private.usage_counters, kind text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- An hourly limit is a rate limit (requests): its 429 and X-RateLimit-* headers tell the caller,
  -- and a notice (and an email) every hour would be noise.
  if (notify_quota.counter).period = 'hour' then
    return;
  end if;
  perform tollgate_private.notify((notify_quota.counter).user_id, notify_quota.kind,
    notify_quota.kind || ':' || (notify_quota.counter).metric || ':'
      || extract(epoch from (notify_quota.counter).period_start)::text,
    case notify_quota.kind
      when 'quota_warning' then format('You have used 80 %% of your %s', (notify_quota.counter).metric)
      else format('You have used all of your %s', (notify_quota.counter).metric)
    end,
    case when (notify_quota.counter).period_end is null
      then format('%s of %s used.', (notify_quota.counter).used, (notify_quota.counter).quota)
      else format('%s of %s used; it resets on %s.', (notify_quota.counter).used,
        (notify_quota.counter).quota,
        pg_catalog.to_char((notify_quota.counter).period_end at time zone 'UTC', 'FMMonth FMDD, YYYY'))
    end,
    jsonb_strip_nulls(jsonb_build_object('metric', (notify_quota.counter).metric,
      'used', (notify_quota.counter).used, 'quota', (notify_quota.counter).quota,
      'plan_id', (notify_quota.counter).plan_id, 'period_start', (notify_quota.counter).period_start,
      'period_end', (notify_quota.counter).period_end)));
end;
$$;

comment on function tollgate_private.notify_quota(tollgate_private.usage_counters, text) is
  E'Notifies quota_warning or quota_exhausted for a counter, once per metric and period (the dedupe key holds the period start); never for hourly metrics, which are rate limits. apply_usage calls it only when a count crosses 80 % or 100 % of the quota, or at a refusal below 100 %: the hot path pays a comparison, not a write.';

revoke all on function tollgate_private.notify_quota(tollgate_private.usage_counters, text) from public, anon, authenticated, service_role;
