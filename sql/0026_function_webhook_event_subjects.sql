create function tollgate_private.webhook_event_subjects(provider text, payload jsonb)
returns text[]
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_object jsonb;
  v_ids text[];
  v_id text;
  v_out text[] := '{}';
begin
  -- plpgsql, not sql: a SQL function with a pinned search_path is planned again on every call
  -- (~200 µs), and this one runs for every webhook event (webhook_event_row).
  -- Where Tollgate's own calls put the user (metadata, the checkout's reference, an invoice's
  -- subscription details, Razorpay notes) and the provider customer the object belongs to.
  if webhook_event_subjects.provider = 'stripe' then
    v_object := webhook_event_subjects.payload -> 'data' -> 'object';
    v_ids := array[
      v_object #>> '{metadata,user_id}',
      v_object ->> 'client_reference_id',
      v_object #>> '{parent,subscription_details,metadata,user_id}',
      v_object #>> '{subscription_details,metadata,user_id}',
      case when v_object ->> 'object' = 'customer' then v_object ->> 'id' end,
      case when jsonb_typeof(v_object -> 'customer') = 'object'
        then v_object #>> '{customer,id}'
        else v_object ->> 'customer' end];
  else
    v_ids := array[
      webhook_event_subjects.payload #>> '{payload,payment,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,order,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,refund,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,payment,entity,customer_id}'];
  end if;
  foreach v_id in array v_ids loop
    if coalesce(v_id, '') <> '' and not (v_id = any (v_out)) then
      v_out := v_out || v_id;
    end if;
  end loop;
  -- Distinct and sorted, as before: one array per set of ids. Two ids (a user and their customer,
  -- the usual case) are ordered without a query.
  if cardinality(v_out) = 2 then
    if v_out[1] > v_out[2] then
      v_out := array[v_out[2], v_out[1]];
    end if;
  elsif cardinality(v_out) > 2 then
    v_out := array(select s.id from unnest(v_out) s(id) order by s.id);
  end if;
  return v_out;
end;
$$;

comment on function tollgate_private.webhook_event_subjects(text, jsonb) is
  E'Who a provider webhook event is about, as its payload names them: the Tollgate user id (Stripe metadata.user_id, client_reference_id, an invoice''s subscription metadata; Razorpay notes.user_id) and the provider customer id. Stored with each ledger row (webhook_events.subjects, indexed), so forget_user finds a user''s events without reading every payload.';

revoke all on function tollgate_private.webhook_event_subjects(text, jsonb) from public, anon, authenticated, service_role;
