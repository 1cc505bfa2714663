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
  insert into tollgate_private.webhook_events (provider, event_id, type, payload, error)
  values (record_webhook_failure.provider, record_webhook_failure.event_id, coalesce(record_webhook_failure.type, 'unknown'),
    -- Without personal data when it names a user deleted since (0474), as an applied event.
    coalesce(tollgate_private.scrub_event_of_deleted_user(record_webhook_failure.provider,
      record_webhook_failure.payload), '{}'::jsonb), left(record_webhook_failure.error, 2000))
  on conflict on constraint webhook_events_provider_event_id_key do update
    set error = excluded.error, attempts = tollgate_private.webhook_events.attempts + 1
    where tollgate_private.webhook_events.processed_at is null
$$;

comment on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) is
  E'Notes in the webhook ledger why applying an event failed (the apply itself rolled back); the event stays unprocessed for the provider''s retry. A payload naming a user deleted since is stored without their personal data (scrub_event_of_deleted_user).';

revoke all on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) from public, anon, authenticated, service_role;
