create table tollgate_private.usage_events (
  id bigint generated always as identity primary key,
  -- No foreign key: its check locked the user's auth.users row (FOR KEY SHARE) on every counted
  -- call, ~28 us a consume and a multixact per concurrent call of one user. A row is written only
  -- after its counter (which has the key) was updated in the same transaction, and forget_user
  -- deletes the counters (waiting for a consume in flight) before the ledger (0472).
  user_id uuid not null,
  metric text not null,
  amount bigint not null check (amount <> 0),
  allowed boolean not null,
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  result jsonb,
  period_start timestamptz,
  created_at timestamptz not null default now(),
  credits bigint not null default 0 check (credits >= 0),
  metadata jsonb
);

-- The same idempotency key from the same user counts once, whatever the concurrency. Partial: a
-- call without a key (most consumes) adds no entry here, only rows a key can find.
create unique index usage_events_user_id_idempotency_key_key
  on tollgate_private.usage_events (user_id, idempotency_key) where idempotency_key is not null;
create index usage_events_user_id_created_at_idx on tollgate_private.usage_events (user_id, created_at);

comment on table tollgate_private.usage_events is
  E'Ledger of usage: one row per counted consume (positive amount) or release (negative), and one per keyed call refused, so a retried key returns its first answer.';
comment on index tollgate_private.usage_events_user_id_idempotency_key_key is
  E'One ledger row per user and idempotency key: a retried call is answered from it instead of counting again.';
comment on column tollgate_private.usage_events.id is E'Ledger row id.';
comment on column tollgate_private.usage_events.user_id is E'Whose usage.';
comment on column tollgate_private.usage_events.metric is E'What was counted.';
comment on column tollgate_private.usage_events.amount is E'Amount asked for: positive consumes, negative releases.';
comment on column tollgate_private.usage_events.allowed is E'Whether it was counted; a refused call changes no counter.';
comment on column tollgate_private.usage_events.idempotency_key is E'The caller''s idempotency key, if given.';
comment on column tollgate_private.usage_events.result is E'The answer returned to the caller, kept for keyed calls so a retry gets the same answer.';
comment on column tollgate_private.usage_events.period_start is E'Start of the counter period it was counted in.';
comment on column tollgate_private.usage_events.created_at is E'When it was recorded.';
comment on column tollgate_private.usage_events.credits is
  E'Of a counted consume, how much was drawn from credits (tollgate.credit_balances) rather than the plan''s quota; the counter took amount - credits. 0 otherwise.';

comment on column tollgate_private.usage_events.metadata is
  E'What the app said about the call (consume_usage''s metadata argument: a JSON object of at most 4096 characters), e.g. the endpoint or request id; null when none.';

alter table tollgate_private.usage_events enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write usage events" on tollgate_private.usage_events
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
