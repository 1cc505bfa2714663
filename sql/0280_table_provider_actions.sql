create table tollgate_private.provider_actions (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('stripe')),
  action text not null check (action in ('cancel_subscription')),
  provider_object_id text not null check (length(provider_object_id) between 1 and 255),
  user_id uuid references auth.users (id) on delete set null,
  reason text not null,
  state text not null default 'pending' check (state in ('pending', 'done', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  done_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- An action on a provider object is queued once, however often the event that queued it is applied.
  constraint provider_actions_once unique (provider, action, provider_object_id)
);

create index provider_actions_due_idx on tollgate_private.provider_actions (next_attempt_at) where state = 'pending';
create index provider_actions_user_id_idx on tollgate_private.provider_actions (user_id);

comment on table tollgate_private.provider_actions is
  E'Outbox of calls Tollgate owes a provider, written in the same transaction as the local change that needs them (e.g. cancel at Stripe the older of two live subscriptions of one user), and made by the functions right after that transaction commits and retried until done (each with its own Idempotency-Key). failed ones need an operator.';
comment on column tollgate_private.provider_actions.id is E'Action id; also the Idempotency-Key of the provider call.';
comment on column tollgate_private.provider_actions.provider is E'Who to call: stripe.';
comment on column tollgate_private.provider_actions.action is E'What to do: cancel_subscription (at once, prorated).';
comment on column tollgate_private.provider_actions.provider_object_id is E'The provider object acted on, e.g. sub_... .';
comment on column tollgate_private.provider_actions.user_id is E'The user the object belongs to (kept as null when the user is deleted: the action still runs).';
comment on column tollgate_private.provider_actions.reason is E'Why, e.g. superseded by sub_... .';
comment on column tollgate_private.provider_actions.state is E'pending (to do or to retry), done, or failed (the provider refused it for good: an operator must act).';
comment on column tollgate_private.provider_actions.attempts is E'Provider calls made so far that did not succeed.';
comment on column tollgate_private.provider_actions.next_attempt_at is E'Not tried again before this moment (backs off after each failure).';
comment on column tollgate_private.provider_actions.last_error is E'What the provider answered on the last failure.';
comment on column tollgate_private.provider_actions.done_at is E'When the provider confirmed it.';
comment on column tollgate_private.provider_actions.created_at is E'When it was queued.';
comment on column tollgate_private.provider_actions.updated_at is E'When the row was last changed.';

alter table tollgate_private.provider_actions enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write provider actions" on tollgate_private.provider_actions
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.provider_actions
  for each row execute function tollgate_private.tg__set_updated_at();
