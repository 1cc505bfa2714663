create function tollgate_private.usage_history(
  metric text,
  from_ts timestamptz,
  to_ts timestamptz,
  bucket text,
  for_user_id uuid
)
returns table (bucket_start timestamptz, used bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_caller uuid := tollgate_private.caller_id();
  v_user_id uuid := coalesce(usage_history.for_user_id, v_caller);
  v_step interval;
  v_first timestamptz;
begin
  if tollgate_private.is_anonymous() then
    perform tollgate_private.raise_error('ANONY', 'Anonymous users cannot do this: sign in with an account');
  end if;
  if v_user_id is null then
    perform tollgate_private.raise_error('BADRQ', 'Whose usage? Pass user_id',
      hint => 'Signed-in users read their own; the service role names the user.');
  end if;
  if v_user_id is distinct from v_caller then
    perform tollgate_private.require_admin('usage_history of another user');
  end if;
  v_step := case usage_history.bucket
    when 'hour' then interval '1 hour' when 'day' then interval '1 day'
    when 'week' then interval '1 week' when 'month' then interval '1 month' end;
  if v_step is null then
    perform tollgate_private.raise_error('BADRQ', 'bucket must be hour, day, week or month');
  end if;
  if usage_history.from_ts is null or usage_history.to_ts is null or usage_history.to_ts <= usage_history.from_ts then
    perform tollgate_private.raise_error('BADRQ', 'from_ts and to_ts must be given, from_ts before to_ts');
  end if;
  v_first := date_trunc(usage_history.bucket, usage_history.from_ts, 'UTC');
  if extract(epoch from usage_history.to_ts - v_first) / extract(epoch from v_step) > 1000 then
    perform tollgate_private.raise_error('BADRQ', 'At most 1000 buckets per call',
      hint => 'Ask for a shorter range or a larger bucket.');
  end if;
  -- The user's ledger rows in the range, through usage_events (user_id, created_at): the cost is
  -- that user's calls in the range, never the whole ledger.
  return query
  with counted as (
    select date_trunc(usage_history.bucket, e.created_at, 'UTC') as b, sum(e.amount)::bigint as n
    from tollgate_private.usage_events e
    where e.user_id = v_user_id and e.metric = usage_history.metric and e.allowed
      -- An admin's reset gives quota back; it is no usage going backwards.
      and not coalesce(e.metadata ? 'admin_reset', false)
      and e.created_at >= usage_history.from_ts and e.created_at < usage_history.to_ts
    group by 1
  )
  select s.b, coalesce(c.n, 0)::bigint
  from generate_series(v_first, usage_history.to_ts - interval '1 microsecond', v_step) as s(b)
  left join counted c on c.b = s.b
  order by s.b;
end;
$$;

comment on function tollgate_private.usage_history(text, timestamptz, timestamptz, text, uuid) is
  E'What tollgate.usage_history runs: one row per bucket (hour, day, week or month, UTC) from the bucket holding from_ts up to to_ts, with the usage counted in it (ledger rows of allowed calls from from_ts to before to_ts; releases of gauges count negative, admin resets are left out); 0 for a bucket without usage. Another user''s only for admins and the service role (NOADM).';

revoke all on function tollgate_private.usage_history(text, timestamptz, timestamptz, text, uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_history(text, timestamptz, timestamptz, text, uuid) to authenticated, service_role;
