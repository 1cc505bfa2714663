create function tollgate_private.record_webhook_failure(
  provider text,
  event_id text,
  type text,
  payload jsonb,
  error text
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  -- Runs in its own transaction after the apply rolled back: the event stays unprocessed, so
  -- the provider's retry applies it.
  insert into tollgate_private.webhook_events (provider, event_id, type, payload, error, subjects)
  -- Without personal data when it names a user deleted since (0474), as an applied event.
  select record_webhook_failure.provider, record_webhook_failure.event_id, coalesce(record_webhook_failure.type, 'unknown'),
    coalesce(r.payload, '{}'::jsonb), left(record_webhook_failure.error, 2000), r.subjects
  from tollgate_private.webhook_event_row(record_webhook_failure.provider, record_webhook_failure.payload) r
  on conflict on constraint webhook_events_provider_event_id_key do update
    set error = excluded.error, attempts = tollgate_private.webhook_events.attempts + 1
    where tollgate_private.webhook_events.processed_at is null
$$;

comment on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) is
  E'Notes in the webhook ledger why applying an event failed (the apply itself rolled back); the event stays unprocessed for the provider''s retry. A payload naming a user deleted since is stored without their personal data (webhook_event_row).';

revoke all on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) from public, anon, authenticated, service_role;
