create function tollgate_private.webhook_event_subjects(provider text, payload jsonb)
returns text[]
language sql
immutable
security invoker
set search_path = ''
as $$
  -- Where Tollgate's own calls put the user (metadata, the checkout's reference, an invoice's
  -- subscription details, Razorpay notes) and the provider customer the object belongs to.
  select coalesce(array_agg(distinct s.id) filter (where coalesce(s.id, '') <> ''), '{}')
  from unnest(case webhook_event_subjects.provider
    when 'stripe' then array[
      webhook_event_subjects.payload #>> '{data,object,metadata,user_id}',
      webhook_event_subjects.payload #>> '{data,object,client_reference_id}',
      webhook_event_subjects.payload #>> '{data,object,parent,subscription_details,metadata,user_id}',
      webhook_event_subjects.payload #>> '{data,object,subscription_details,metadata,user_id}',
      case when webhook_event_subjects.payload #>> '{data,object,object}' = 'customer'
        then webhook_event_subjects.payload #>> '{data,object,id}' end,
      case when jsonb_typeof(webhook_event_subjects.payload #> '{data,object,customer}') = 'object'
        then webhook_event_subjects.payload #>> '{data,object,customer,id}'
        else webhook_event_subjects.payload #>> '{data,object,customer}' end]
    else array[
      webhook_event_subjects.payload #>> '{payload,payment,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,order,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,refund,entity,notes,user_id}',
      webhook_event_subjects.payload #>> '{payload,payment,entity,customer_id}']
  end) s(id)
$$;

comment on function tollgate_private.webhook_event_subjects(text, jsonb) is
  E'Who a provider webhook event is about, as its payload names them: the Tollgate user id (Stripe metadata.user_id, client_reference_id, an invoice''s subscription metadata; Razorpay notes.user_id) and the provider customer id. Indexed (webhook_events_subjects_idx), so forget_user finds a user''s events without reading every payload.';

revoke all on function tollgate_private.webhook_event_subjects(text, jsonb) from public, anon, authenticated, service_role;
