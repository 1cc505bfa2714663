create function tollgate_private.scrub_event_of_deleted_user(event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_object jsonb := scrub_event_of_deleted_user.event #> '{data,object}';
  v_gone text[];
  v_customer text;
begin
  -- The users the object names where Tollgate puts them (metadata, the checkout's reference, an
  -- invoice's subscription details) and that no longer exist: deleted, so forgotten.
  select array_agg(distinct x.id) into v_gone
  from unnest(array[
    v_object #>> '{metadata,user_id}',
    v_object ->> 'client_reference_id',
    v_object #>> '{parent,subscription_details,metadata,user_id}',
    v_object #>> '{subscription_details,metadata,user_id}'
  ]) x(id)
  where x.id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    and not exists (select from auth.users u where u.id = x.id::uuid);
  if v_gone is null then
    return scrub_event_of_deleted_user.event;
  end if;
  v_customer := case when v_object ->> 'object' = 'customer' then v_object ->> 'id'
    else coalesce(v_object #>> '{customer,id}', v_object ->> 'customer') end;
  -- Their customer id goes too, unless a user still holds it.
  if v_customer ~ '^cus_' and not exists (
    select from tollgate_private.customers c where c.provider = 'stripe' and c.provider_customer_id = v_customer
  ) then
    v_gone := v_gone || v_customer;
  end if;
  return tollgate_private.scrub_personal_data(scrub_event_of_deleted_user.event, v_gone);
end;
$$;

comment on function tollgate_private.scrub_event_of_deleted_user(jsonb) is
  E'A Stripe event as the webhook ledger stores it: unchanged, unless its object names (metadata.user_id, client_reference_id, an invoice''s subscription metadata) a user who no longer exists; then without personal data (scrub_personal_data: names, emails, addresses, phones, that user''s id and their customer id), so an event arriving after a user was deleted (the cancellation of their subscription, a late invoice) brings nothing of theirs back.';

revoke all on function tollgate_private.scrub_event_of_deleted_user(jsonb) from public, anon, authenticated, service_role;
