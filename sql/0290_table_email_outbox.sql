-- The email log: one row per notification that is emailed, delivered by the notifications worker.
create table tollgate_private.email_outbox (
  notification_id uuid primary key references tollgate.notifications (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null,
  state text not null default 'queued' check (state in ('queued', 'sending', 'sent', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  provider_message_id text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Derived from the notification (unique already): no second copy to keep equal, no second index.
  idempotency_key text not null generated always as ('tollgate-notification/' || notification_id::text) stored
);

-- The worker's claim reads due rows in this order.
create index email_outbox_due_idx on tollgate_private.email_outbox (next_attempt_at)
  where state in ('queued', 'failed', 'sending');

comment on table tollgate_private.email_outbox is
  E'The email log admins read: one row per notification that is emailed, with its delivery state. The notifications worker claims due rows (for update skip locked), sends each through Resend with its idempotency_key and records the outcome; rows are never deleted by Tollgate, except those of a user it forgets (forget_user).';
comment on column tollgate_private.email_outbox.notification_id is E'The notification emailed (tollgate.notifications).';
comment on column tollgate_private.email_outbox.user_id is E'Whom it goes to; the address is read from auth.users when it is sent.';
comment on column tollgate_private.email_outbox.kind is E'The notification''s kind, for the log.';
comment on column tollgate_private.email_outbox.state is
  E'queued (not tried yet), sending (claimed by a worker until next_attempt_at), sent, failed (will be retried at next_attempt_at) or dead (given up: an error retrying cannot fix, or too many attempts).';
comment on column tollgate_private.email_outbox.attempts is E'How many times a worker claimed it to send.';
comment on column tollgate_private.email_outbox.next_attempt_at is
  E'When it is due: after a failure, exponential backoff with jitter (Retry-After when longer); while sending, when the worker''s claim lapses (a worker that crashed leaves the row, and it is claimed again then: the same idempotency_key makes Resend drop a duplicate).';
comment on column tollgate_private.email_outbox.last_error is E'The last failure, as the worker saw it.';
comment on column tollgate_private.email_outbox.provider_message_id is E'Resend''s id of the email once sent.';
comment on column tollgate_private.email_outbox.idempotency_key is E'The Idempotency-Key every attempt sends: tollgate-notification/<notification id>, one email, one key (computed from notification_id).';
comment on column tollgate_private.email_outbox.sent_at is E'When Resend accepted it.';
comment on column tollgate_private.email_outbox.created_at is E'When it was queued.';
comment on column tollgate_private.email_outbox.updated_at is E'When the row was last changed.';

alter table tollgate_private.email_outbox enable row level security;

create policy "Clients never read or write the email outbox" on tollgate_private.email_outbox
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.email_outbox
  for each row execute function tollgate_private.tg__set_updated_at();
