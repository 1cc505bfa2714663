-- Tollgate errors reach HTTP with the registry's status through PostgREST: tollgate_private.raise_error
-- raises PostgREST's PGRST form inside an API request (NOMET 404, IDKEY 409, GAUGE 422, QUOTA 429, ...)
-- and the mnemonic SQLSTATE everywhere else. The usage functions and the row-quota trigger raise
-- through it. Same objects as the files in sql/ named below.

-- ==== sql/0060_function_raise_error.sql
create function tollgate_private.raise_error(
  code text,
  message text,
  detail text default null,
  hint text default null
)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- The HTTP status of each code Tollgate's SQL raises, as the registry (packages/core/src/errors.ts)
  -- gives it; tests/schema/every_custom_sqlstate_is_in_the_error_registry.test.ts keeps them equal.
  v_status integer := case raise_error.code
    when 'INAMT' then 400
    when 'BADKY' then 400
    when 'NOOWN' then 400
    when 'NOJWT' then 401
    when 'NOUSR' then 404
    when 'NOMET' then 404
    when 'IDKEY' then 409
    when 'GAUGE' then 422
    when 'QUOTA' then 429
    when 'TGCFG' then 500
    else 500
  end;
begin
  -- PostgREST sets request.method on every request and answers any custom SQLSTATE with 400, so
  -- another status must take its `raise sqlstate 'PGRST'` form: the body as JSON in the message,
  -- {status, headers} in the detail. Everyone else (SQL, edge functions) keeps the mnemonic.
  if v_status <> 400 and coalesce(pg_catalog.current_setting('request.method', true), '') <> '' then
    raise sqlstate 'PGRST'
      using message = pg_catalog.jsonb_build_object(
              'code', raise_error.code,
              'message', raise_error.message,
              'details', raise_error.detail,
              'hint', raise_error.hint)::text,
            detail = pg_catalog.jsonb_build_object(
              'status', v_status,
              'headers', case
                when v_status = 401 then pg_catalog.jsonb_build_object('WWW-Authenticate', 'Bearer')
                else '{}'::jsonb
              end)::text;
  end if;
  -- A null RAISE option is an error of its own, and an empty one would reach clients as "".
  if raise_error.detail is null and raise_error.hint is null then
    raise exception using errcode = raise_error.code, message = raise_error.message;
  elsif raise_error.hint is null then
    raise exception using errcode = raise_error.code, message = raise_error.message,
      detail = raise_error.detail;
  elsif raise_error.detail is null then
    raise exception using errcode = raise_error.code, message = raise_error.message,
      hint = raise_error.hint;
  else
    raise exception using errcode = raise_error.code, message = raise_error.message,
      detail = raise_error.detail, hint = raise_error.hint;
  end if;
end;
$$;

comment on function tollgate_private.raise_error(text, text, text, text) is
  E'Raises a Tollgate error (code from the registry, e.g. NOMET): as SQLSTATE code for SQL callers, and inside a PostgREST request, when its HTTP status is not 400, in PostgREST''s PGRST form so the API answers that status with the body {code, message, details, hint}.';

revoke all on function tollgate_private.raise_error(text, text, text, text) from public, anon, authenticated, service_role;

-- ==== sql/0360_function_apply_usage.sql
create or replace function tollgate_private.apply_usage(user_id uuid, metric text, delta bigint, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row tollgate_private.usage_counters;
  v_entitlement record;
  v_baseline text;
begin
  if apply_usage.delta > 0 then
    -- FAST PATH: one conditional update. The row lock and the re-check of the WHERE clause on the
    -- newest row version make it atomic: no concurrency can take used past quota.
    update tollgate_private.usage_counters c
    set used = c.used + apply_usage.delta,
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and (c.period_end is null or c.period_end > apply_usage.as_of)
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
      and (c.quota = -1 or c.used + apply_usage.delta <= c.quota)
    returning c.* into v_row;
    if found then
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
    end if;

    -- REFUSAL without a lock, so a user hammering an exhausted quota does not queue on its row.
    select c.* into v_row
    from tollgate_private.usage_counters c
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
    if v_row.user_id is not null
      and (v_row.period_end is null or v_row.period_end > apply_usage.as_of)
      and (v_row.valid_until is null or v_row.valid_until > apply_usage.as_of)
      and v_row.quota <> -1 and v_row.used + apply_usage.delta > v_row.quota then
      return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
    end if;
  else
    -- Releases only apply to gauges (never-resetting metrics), and never below zero.
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and c.period = 'never'
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
    returning c.* into v_row;
    if found then
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
    end if;
  end if;

  -- SLOW PATH: the counter is missing, its period has ended, or its plan must be checked again.
  if not exists (select from auth.users u where u.id = apply_usage.user_id) then
    perform tollgate_private.raise_error('NOUSR', format('Unknown user %s', apply_usage.user_id),
      hint => 'The user must exist in auth.users.');
  end if;
  if not exists (select from tollgate.plan_limits l where l.metric = apply_usage.metric)
    and not exists (
      select from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    ) then
    perform tollgate_private.raise_error('NOMET', format('Unknown metric %s', apply_usage.metric),
      hint => 'Metrics are the ones named in tollgate.plan_limits.');
  end if;

  select e.* into v_entitlement from tollgate_private.entitlement(apply_usage.user_id, apply_usage.as_of) e;
  select c.plan_id into v_baseline
  from tollgate_private.usage_counters c
  where c.user_id = apply_usage.user_id
  limit 1;

  v_row := tollgate_private.refresh_usage_counter(
    apply_usage.user_id, apply_usage.metric, apply_usage.as_of, v_entitlement.plan_id,
    v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, v_entitlement.plan_id));

  if v_row.user_id is null then
    -- The metric exists, but not on this user's plan: quota 0.
    return tollgate_private.usage_answer(apply_usage.delta < 0, apply_usage.metric, null);
  end if;

  if apply_usage.delta < 0 then
    if v_row.period <> 'never' then
      perform tollgate_private.raise_error('GAUGE',
        format('Only never-resetting metrics can be released; %s resets every %s',
          apply_usage.metric, v_row.period),
        hint => 'Usage of a resetting metric is not given back.');
    end if;
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    returning c.* into v_row;
    return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
  end if;

  -- The row is locked by refresh_usage_counter: decide on the fresh state.
  if v_row.quota <> -1 and v_row.used + apply_usage.delta > v_row.quota then
    return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
  end if;
  update tollgate_private.usage_counters c
  set used = c.used + apply_usage.delta,
      updated_at = now()
  where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
  returning c.* into v_row;
  return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
end;
$$;

comment on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) is
  E'Counts delta (positive: consume, refused past the quota; negative: release of a gauge, floored at zero) on a user''s counter at as_of, rolling the period or following a plan change first when due. Writes no ledger row: record_usage does.';

revoke all on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0370_function_record_usage.sql
create or replace function tollgate_private.record_usage(
  user_id uuid,
  metric text,
  delta bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
  v_event tollgate_private.usage_events;
  v_constraint text;
begin
  if record_usage.user_id is null then
    perform tollgate_private.raise_error('NOUSR', 'No user given', hint => 'Sign in, or pass a user id.');
  end if;
  if record_usage.metric is null or record_usage.metric !~ '^[a-z][a-z0-9_]{0,62}$' then
    perform tollgate_private.raise_error('NOMET',
      format('Unknown metric %s', coalesce(record_usage.metric, '(null)')),
      hint => 'Metrics are the ones named in tollgate.plan_limits.');
  end if;
  if record_usage.idempotency_key is not null and length(record_usage.idempotency_key) not between 1 and 255 then
    perform tollgate_private.raise_error('BADKY', 'The idempotency key must be 1 to 255 characters');
  end if;

  if record_usage.idempotency_key is null then
    v_result := tollgate_private.apply_usage(record_usage.user_id, record_usage.metric, record_usage.delta, record_usage.as_of);
    if (v_result ->> 'allowed')::boolean then
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, true, (
        select c.period_start from tollgate_private.usage_counters c
        where c.user_id = record_usage.user_id and c.metric = record_usage.metric));
    end if;
    return v_result;
  end if;

  -- A key seen before answers from the ledger and counts nothing.
  select e.* into v_event
  from tollgate_private.usage_events e
  where e.user_id = record_usage.user_id and e.idempotency_key = record_usage.idempotency_key;

  if v_event.id is null then
    begin
      v_result := tollgate_private.apply_usage(record_usage.user_id, record_usage.metric, record_usage.delta, record_usage.as_of);
      -- The unique key makes a concurrent call with the same key wait here for us, then fail.
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, idempotency_key, result, period_start)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, (v_result ->> 'allowed')::boolean,
        record_usage.idempotency_key, v_result, (
          select c.period_start from tollgate_private.usage_counters c
          where c.user_id = record_usage.user_id and c.metric = record_usage.metric));
      return v_result;
    exception when unique_violation then
      get stacked diagnostics v_constraint = constraint_name;
      if v_constraint is distinct from 'usage_events_user_id_idempotency_key_key' then
        raise;
      end if;
      -- Another call with this key committed first; leaving this block undid our count.
      select e.* into v_event
      from tollgate_private.usage_events e
      where e.user_id = record_usage.user_id and e.idempotency_key = record_usage.idempotency_key;
    end;
  end if;

  if v_event.metric <> record_usage.metric or v_event.amount <> record_usage.delta then
    perform tollgate_private.raise_error('IDKEY',
      'This idempotency key was used for a different request',
      detail => format('first used for %s %s', v_event.metric, v_event.amount),
      hint => 'Use a new key for a new request.');
  end if;
  return v_event.result;
end;
$$;

comment on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz) is
  E'Counts a usage change and writes its ledger row in the same transaction; the same idempotency key from the same user counts once, at any concurrency, and returns the first answer.';

revoke all on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0380_function_consume_usage.sql
create or replace function tollgate_private.consume_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz
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
    consume_usage.as_of);
end;
$$;

comment on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) is
  E'Consumes amount of a metric for a user at as_of: {allowed, metric, used, quota, remaining, period_end}. Refused calls count nothing; a repeated idempotency key counts once. For the service role, tests and triggers; clients call tollgate.consume_usage.';

revoke all on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) to service_role;

-- ==== sql/0390_function_release_usage.sql
create or replace function tollgate_private.release_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if release_usage.amount is null or release_usage.amount <= 0 then
    perform tollgate_private.raise_error('INAMT', 'amount must be a whole number greater than 0',
      detail => format('got %s', coalesce(release_usage.amount::text, 'null')));
  end if;
  return tollgate_private.record_usage(
    release_usage.user_id, release_usage.metric, -release_usage.amount, release_usage.idempotency_key,
    release_usage.as_of);
end;
$$;

comment on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) is
  E'Gives back amount of a never-resetting metric (a gauge such as projects or storage) when the thing counted is gone; never goes below zero. Service role and triggers only.';

revoke all on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) to service_role;

-- ==== sql/0400_function_consume_usage_of_caller.sql
create or replace function tollgate_private.consume_usage_of_caller(metric text, amount bigint, idempotency_key text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('NOJWT', 'Sign in to consume usage');
  end if;
  -- The caller never chooses the time: a client must not move its own period.
  return tollgate_private.consume_usage(
    v_user_id, consume_usage_of_caller.metric, consume_usage_of_caller.amount,
    consume_usage_of_caller.idempotency_key, now());
end;
$$;

comment on function tollgate_private.consume_usage_of_caller(text, bigint, text) is
  E'consume_usage for the signed-in caller (auth.uid()) at the current time; what tollgate.consume_usage runs.';

revoke all on function tollgate_private.consume_usage_of_caller(text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage_of_caller(text, bigint, text) to authenticated;

-- ==== sql/0530_function_tg__enforce_row_quota.sql
create or replace function tollgate_private.tg__enforce_row_quota()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_metric text := tg_argv[0];
  v_owner_column text := coalesce(tg_argv[1], 'user_id');
  v_new_owner uuid;
  v_old_owner uuid;
  v_result jsonb;
begin
  if v_metric is null then
    perform tollgate_private.raise_error('TGCFG',
      'tg__enforce_row_quota needs the metric as its first argument',
      hint => 'create trigger ... execute function tollgate_private.tg__enforce_row_quota(''projects'', ''user_id'')');
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new_owner := (to_jsonb(new) ->> v_owner_column)::uuid;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    v_old_owner := (to_jsonb(old) ->> v_owner_column)::uuid;
  end if;
  if tg_op = 'UPDATE' and v_new_owner is not distinct from v_old_owner then
    return null;
  end if;
  if tg_op <> 'DELETE' and v_new_owner is null then
    perform tollgate_private.raise_error('NOOWN',
      format('A row counted against metric %s needs an owner in column %s', v_metric, v_owner_column));
  end if;

  -- Give back first (an owner change moves one unit from the old owner to the new one). Only
  -- gauges give back: a metric that resets counts creations, not rows that exist.
  if v_old_owner is not null and exists (
    select from tollgate_private.usage_counters c
    where c.user_id = v_old_owner and c.metric = v_metric and c.period = 'never'
  ) then
    perform tollgate_private.release_usage(v_old_owner, v_metric, 1, null, now());
  end if;

  if v_new_owner is not null then
    v_result := tollgate_private.consume_usage(v_new_owner, v_metric, 1, null, now());
    if not (v_result ->> 'allowed')::boolean then
      perform tollgate_private.raise_error('QUOTA',
        format('Quota for %s is used up (%s of %s)', v_metric, v_result ->> 'used', v_result ->> 'quota'),
        detail => v_result::text,
        hint => 'Upgrade the plan or remove something first.');
    end if;
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg__enforce_row_quota() is
  E'Trigger for an app''s own table: counts each new row against its owner''s quota of a metric, refuses the insert past the limit (QUOTA), and gives the unit back on delete. Arguments: metric, owner column (default user_id). Attach AFTER INSERT OR DELETE OR UPDATE OF <owner column>, FOR EACH ROW.';

revoke all on function tollgate_private.tg__enforce_row_quota() from public, anon, authenticated, service_role;
