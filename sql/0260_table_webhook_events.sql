create table tollgate_private.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null check (provider in ('stripe', 'razorpay')),
  event_id text not null check (length(event_id) between 1 and 255),
  type text not null,
  api_version text,
  event_created_at timestamptz,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  outcome text check (outcome in ('applied', 'stale', 'ignored', 'unlinked', 'tie')),
  error text,
  attempts integer not null default 1 check (attempts >= 1),
  -- Written with the row by its writers (apply_stripe_event, apply_razorpay_event,
  -- record_webhook_failure) and forget_user's scrub, never by an index expression: one evaluation
  -- of webhook_event_subjects per event instead of one per index write and check.
  subjects text[] not null default '{}',
  -- A provider event is recorded and applied once, however often it is delivered.
  constraint webhook_events_provider_event_id_key unique (provider, event_id)
-- Room on the page for the update that marks it processed: a HOT update, no new index entries.
) with (fillfactor = 80);

-- Payloads (~10 KB of JSON each) compressed with lz4 where the server has it (Supabase's Postgres
-- does; PGlite does not, and keeps pglz): ~100 us less per first delivery (bench/NOTES.md).
do $$
begin
  alter table tollgate_private.webhook_events alter column payload set compression lz4;
exception when feature_not_supported then
  null;
end;
$$;

create index webhook_events_type_idx on tollgate_private.webhook_events (provider, type);
-- No index reads processed_at, outcome or error: marking an event processed stays a HOT update.
-- Forgetting a user finds the events about them here, not by reading every payload.
create index webhook_events_subjects_idx on tollgate_private.webhook_events using gin (subjects);

comment on index tollgate_private.webhook_events_subjects_idx is
  E'The user and customer ids each event names (the subjects column): how forget_user finds the payloads to scrub.';
comment on table tollgate_private.webhook_events is
  E'Every verified webhook event received, once per provider event id, with its raw payload and what was done with it.';
comment on column tollgate_private.webhook_events.id is E'Ledger row id.';
comment on column tollgate_private.webhook_events.provider is E'stripe or razorpay.';
comment on column tollgate_private.webhook_events.event_id is E'The provider''s event id (evt_... for Stripe, x-razorpay-event-id for Razorpay).';
comment on column tollgate_private.webhook_events.type is E'Event type, e.g. invoice.paid.';
comment on column tollgate_private.webhook_events.api_version is E'Provider API version the payload was rendered in.';
comment on column tollgate_private.webhook_events.event_created_at is E'When the provider created the event.';
comment on column tollgate_private.webhook_events.payload is E'The verified event body.';
comment on column tollgate_private.webhook_events.received_at is E'When Tollgate first received it.';
comment on column tollgate_private.webhook_events.processed_at is E'When it was applied (or deliberately not applied).';
comment on column tollgate_private.webhook_events.outcome is E'applied; stale (older than what was already applied to the same object); ignored (a type or state Tollgate does not act on); unlinked (no Tollgate user or plan matches it: see error); tie (not processed yet: another event about the same object in the same second was applied first, so the object is re-fetched from the provider).';
comment on column tollgate_private.webhook_events.error is E'The last error applying it, if any; the provider retries.';
comment on column tollgate_private.webhook_events.attempts is E'How many deliveries of this event arrived.';
comment on column tollgate_private.webhook_events.subjects is E'Who the stored payload is about (webhook_event_subjects of it: Tollgate user ids and provider customer ids), sorted; indexed (webhook_events_subjects_idx) so forget_user finds a user''s events without reading every payload.';

alter table tollgate_private.webhook_events enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write webhook events" on tollgate_private.webhook_events
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
