create function tollgate_private.period_window(
  period text,
  anchor timestamptz,
  as_of timestamptz,
  out period_start timestamptz,
  out period_end timestamptz
)
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_at timestamp := period_window.as_of at time zone 'UTC';
  v_anchor timestamp := coalesce(period_window.anchor, timestamptz '2000-01-01 00:00:00+00') at time zone 'UTC';
  v_months integer;
begin
  -- All arithmetic is in UTC wall time, so the session's TimeZone (and its DST jumps) never moves a boundary.
  case period_window.period
    when 'hour' then
      period_start := date_trunc('hour', v_at) at time zone 'UTC';
      period_end := (date_trunc('hour', v_at) + interval '1 hour') at time zone 'UTC';
    when 'day' then
      period_start := date_trunc('day', v_at) at time zone 'UTC';
      period_end := (date_trunc('day', v_at) + interval '1 day') at time zone 'UTC';
    when 'month' then
      -- Count whole months from the anchor (anchor + k months, never month after month, so Jan 31
      -- gives Feb 29 then Mar 31, as Stripe's billing_cycle_anchor does).
      v_months := (extract(year from v_at)::integer - extract(year from v_anchor)::integer) * 12
        + extract(month from v_at)::integer - extract(month from v_anchor)::integer;
      if v_anchor + make_interval(months => v_months) > v_at then
        v_months := v_months - 1;
      end if;
      period_start := (v_anchor + make_interval(months => v_months)) at time zone 'UTC';
      period_end := (v_anchor + make_interval(months => v_months + 1)) at time zone 'UTC';
    when 'never' then
      period_start := period_window.as_of;
      period_end := null;
    else
      raise exception 'Unknown period %', period_window.period
        using errcode = '22023', hint = 'Use hour, day, month or never.';
  end case;
end;
$$;

comment on function tollgate_private.period_window(text, timestamptz, timestamptz) is
  E'The usage period (start inclusive, end exclusive) containing as_of: UTC hours and days, months counted from anchor (calendar months when anchor is null), or an open-ended never period.';

revoke all on function tollgate_private.period_window(text, timestamptz, timestamptz) from public, anon, authenticated, service_role;
