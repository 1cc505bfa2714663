create function tollgate_private.meter_request(
  key text,
  scope text,
  metric text default null,
  amount bigint default null,
  idempotency_key text default null,
  metadata jsonb default null,
  as_of timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_owner uuid;
  v_rate jsonb;
  v_answer jsonb;
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  -- BDKEY / KSCOP raise: nothing is counted for a key that is not good for this request.
  select a.user_id into v_owner
  from tollgate_private.authenticate_api_key(meter_request.key, meter_request.scope, meter_request.as_of) a;
  if meter_request.scope = 'read' then
    v_rate := tollgate_private.limit_request(v_owner, 'requests', meter_request.as_of);
    if not (v_rate ->> 'allowed')::boolean then
      return jsonb_build_object('rate', v_rate);
    end if;
    return jsonb_build_object('rate', v_rate, 'usage', coalesce((
      select jsonb_agg(to_jsonb(u) - 'user_id' order by u.metric)
      from tollgate_private.usage_rows(v_owner, meter_request.as_of) u), '[]'::jsonb));
  end if;
  -- A consume that fails (bad input) changes nothing, its request count included: the block is
  -- undone and its error comes back as data with the state as it stands, so the answer keeps the
  -- X-RateLimit-* headers.
  begin
    v_rate := tollgate_private.limit_request(v_owner, 'requests', meter_request.as_of);
    if not (v_rate ->> 'allowed')::boolean then
      return jsonb_build_object('rate', v_rate);
    end if;
    v_answer := tollgate_private.consume_usage(v_owner, meter_request.metric, meter_request.amount,
      meter_request.idempotency_key, meter_request.as_of, meter_request.metadata);
  exception when others then
    if v_rate is null then
      raise;
    end if;
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
      v_detail = pg_exception_detail, v_hint = pg_exception_hint;
    return jsonb_build_object(
      'rate', case when (v_rate ->> 'remaining') is null then v_rate
        else jsonb_set(v_rate, '{remaining}', to_jsonb((v_rate ->> 'remaining')::bigint + 1)) end,
      'error', jsonb_build_object('code', v_state, 'message', v_message,
        'details', nullif(v_detail, ''), 'hint', nullif(v_hint, '')));
  end;
  return jsonb_build_object('rate', v_rate, 'answer', v_answer);
end;
$$;

comment on function tollgate_private.meter_request(text, text, text, bigint, text, jsonb, timestamptz) is
  E'One metering request in one statement: the API key checked (BDKEY, KSCOP), one request counted against its owner''s hourly requests metric, then for scope consume the consume_usage of the owner, for scope read their usage rows. Answers {rate, answer | usage | error}: no answer when rate.allowed is false (429 RATEL); error (code, message, details, hint) when the consume failed, which undoes everything, the request count too (rate shows the state as it stands). What the metering function runs (as_of: now; tests pass their clock).';

revoke all on function tollgate_private.meter_request(text, text, text, bigint, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
