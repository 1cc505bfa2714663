create function tollgate_private.scrub_event_of_deleted_user(provider text, event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_subjects text[] := tollgate_private.webhook_event_subjects(
    scrub_event_of_deleted_user.provider, scrub_event_of_deleted_user.event);
  v_gone text[];
begin
  -- The users the event names (0026) that no longer exist: deleted, so forgotten.
  select array_agg(s.id) into v_gone
  from unnest(v_subjects) s(id)
  where s.id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    and not exists (select from auth.users u where u.id = s.id::uuid);
  if v_gone is null then
    return scrub_event_of_deleted_user.event;
  end if;
  -- Their customer id goes too, unless a user still holds it.
  select v_gone || coalesce(array_agg(s.id), '{}') into v_gone
  from unnest(v_subjects) s(id)
  where s.id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    and not exists (
      select from tollgate_private.customers c
      where c.provider = scrub_event_of_deleted_user.provider and c.provider_customer_id = s.id);
  return tollgate_private.scrub_personal_data(scrub_event_of_deleted_user.event, v_gone);
end;
$$;

comment on function tollgate_private.scrub_event_of_deleted_user(text, jsonb) is
  E'A provider webhook event as the webhook ledger stores it: unchanged, unless it names (webhook_event_subjects: Stripe metadata.user_id, client_reference_id, an invoice''s subscription metadata; Razorpay notes.user_id) a user who no longer exists; then without personal data (scrub_personal_data: names, emails, addresses, phones, that user''s id and their customer id), so an event arriving after a user was deleted (the cancellation of their subscription, a late invoice or payment) brings nothing of theirs back.';

revoke all on function tollgate_private.scrub_event_of_deleted_user(text, jsonb) from public, anon, authenticated, service_role;
