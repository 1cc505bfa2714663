create function tollgate_private.webhook_event_row(
  provider text,
  event jsonb,
  out payload jsonb,
  out subjects text[]
)
returns record
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_gone text[];
  v_id text;
begin
  -- Every writer of the webhook ledger stores what this answers: one call per event.
  webhook_event_row.payload := webhook_event_row.event;
  webhook_event_row.subjects := tollgate_private.webhook_event_subjects(
    webhook_event_row.provider, webhook_event_row.event);
  -- The users the event names (0026) that no longer exist: deleted, so forgotten. A loop, not a
  -- query: usually one id to look up.
  foreach v_id in array webhook_event_row.subjects loop
    if v_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      and not exists (select from auth.users u where u.id = v_id::uuid) then
      v_gone := v_gone || v_id;
    end if;
  end loop;
  if v_gone is null then
    return;
  end if;
  -- Their customer id goes too, unless a user still holds it.
  select v_gone || coalesce(array_agg(s.id), '{}') into v_gone
  from unnest(webhook_event_row.subjects) s(id)
  where s.id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    and not exists (
      select from tollgate_private.customers c
      where c.provider = webhook_event_row.provider and c.provider_customer_id = s.id);
  webhook_event_row.payload := tollgate_private.scrub_personal_data(webhook_event_row.event, v_gone);
  -- What the scrubbed payload still names (not the forgotten user).
  webhook_event_row.subjects := tollgate_private.webhook_event_subjects(
    webhook_event_row.provider, webhook_event_row.payload);
end;
$$;

comment on function tollgate_private.webhook_event_row(text, jsonb) is
  E'What the webhook ledger stores for a provider event: its payload, unchanged unless it names (webhook_event_subjects: Stripe metadata.user_id, client_reference_id, an invoice''s subscription metadata; Razorpay notes.user_id) a user who no longer exists, then without personal data (scrub_personal_data: names, emails, addresses, phones, that user''s id and their customer id), so an event arriving after a user was deleted (the cancellation of their subscription, a late invoice or payment) brings nothing of theirs back; and the subjects of the payload stored (webhook_events.subjects).';

revoke all on function tollgate_private.webhook_event_row(text, jsonb) from public, anon, authenticated, service_role;
