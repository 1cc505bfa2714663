create function tollgate_private.record_usage(
  user_id uuid,
  metric text,
  delta bigint,
  idempotency_key text,
  as_of timestamptz,
  metadata jsonb default null
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
    -- The caller chose the name: echo 64 characters of it at most, never a whole request body.
    perform tollgate_private.raise_error('NOMET',
      format('Unknown metric %s', coalesce(
        left(record_usage.metric, 64) || case when length(record_usage.metric) > 64 then '...' else '' end,
        '(null)')),
      hint => 'Metrics are the ones named in tollgate.plan_limits.');
  end if;
  if record_usage.idempotency_key is not null and length(record_usage.idempotency_key) not between 1 and 255 then
    perform tollgate_private.raise_error('BADKY', 'The idempotency key must be 1 to 255 characters');
  end if;

  if record_usage.metadata is not null
    and (jsonb_typeof(record_usage.metadata) <> 'object' or length(record_usage.metadata::text) > 4096) then
    perform tollgate_private.raise_error('BADRQ', 'metadata must be a JSON object of at most 4096 characters',
      hint => 'e.g. {"endpoint": "/v1/search", "request_id": "..."}');
  end if;

  if record_usage.idempotency_key is null then
    v_result := tollgate_private.apply_usage(record_usage.user_id, record_usage.metric, record_usage.delta, record_usage.as_of);
    if (v_result ->> 'allowed')::boolean then
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start, credits, metadata)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, true, (
        select c.period_start from tollgate_private.usage_counters c
        where c.user_id = record_usage.user_id and c.metric = record_usage.metric),
        (v_result ->> 'credits_drawn')::bigint, record_usage.metadata);
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
      -- The ledger has no foreign key (0230): a counted call holds its counter's row, which
      -- forget_user deletes before the ledger; a refusal holds nothing, so it holds the user.
      if not (v_result ->> 'allowed')::boolean then
        perform from auth.users u where u.id = record_usage.user_id for key share;
        if not found then
          perform tollgate_private.raise_error('NOUSR', format('Unknown user %s', record_usage.user_id),
            hint => 'The user must exist in auth.users.');
        end if;
      end if;
      -- The unique key makes a concurrent call with the same key wait here for us, then fail.
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, idempotency_key, result, period_start, credits, metadata)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, (v_result ->> 'allowed')::boolean,
        record_usage.idempotency_key, v_result, (
          select c.period_start from tollgate_private.usage_counters c
          where c.user_id = record_usage.user_id and c.metric = record_usage.metric),
        (v_result ->> 'credits_drawn')::bigint, record_usage.metadata);
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

comment on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz, jsonb) is
  E'Counts a usage change and writes its ledger row in the same transaction (with the credits drawn, so quota and credits can be told apart); the same idempotency key from the same user counts once, at any concurrency, and returns the first answer (and draws credits once).';

revoke all on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz, jsonb) from public, anon, authenticated, service_role;
