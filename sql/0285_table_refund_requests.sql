create table tollgate_private.refund_requests (
  id uuid primary key default gen_random_uuid(),
  idempotency_key text not null check (length(idempotency_key) between 1 and 255),
  request_hash text not null,
  actor_user_id uuid not null,
  invoice_id uuid references tollgate.invoices (id) on delete cascade,
  purchase_id uuid references tollgate.purchases (id) on delete cascade,
  provider text not null check (provider in ('stripe', 'razorpay')),
  payment_id text not null,
  amount bigint not null check (amount > 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  reason text not null check (length(reason) between 1 and 1000),
  state text not null default 'requested' check (state in ('requested', 'sent', 'failed')),
  refund_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Last, as the migration that added it put it.
  error text,
  -- The provider's Idempotency-Key of the refund: one refund per key, however often it is sent.
  constraint refund_requests_idempotency_key_key unique (idempotency_key),
  constraint refund_requests_one_target check ((invoice_id is null) <> (purchase_id is null)),
  constraint refund_requests_sent_have_refund check ((state = 'sent') = (refund_id is not null))
);

create index refund_requests_request_hash_idx on tollgate_private.refund_requests (request_hash, created_at);
create index refund_requests_invoice_id_idx on tollgate_private.refund_requests (invoice_id);
create index refund_requests_purchase_id_idx on tollgate_private.refund_requests (purchase_id);

comment on table tollgate_private.refund_requests is
  E'Refunds admins asked for (POST /billing/admin/refund), written before the provider is called so a retried request sends the same Idempotency-Key and the provider refunds once. A request still requested after a crash holds its amount until it is retried.';
comment on column tollgate_private.refund_requests.id is E'Request id.';
comment on column tollgate_private.refund_requests.idempotency_key is E'The Idempotency-Key sent to the provider: derived from the caller''s Idempotency-Key header, else from this row.';
comment on column tollgate_private.refund_requests.request_hash is E'Digest of what was asked (target, amount, reason, admin): the same key with another request is refused (IDKEY), and without a key the same request within 24 hours is the same refund.';
comment on column tollgate_private.refund_requests.actor_user_id is E'The admin who asked (auth.users id; kept when that user is deleted).';
comment on column tollgate_private.refund_requests.invoice_id is E'The invoice refunded (or purchase_id).';
comment on column tollgate_private.refund_requests.purchase_id is E'The purchase refunded (or invoice_id).';
comment on column tollgate_private.refund_requests.provider is E'stripe or razorpay.';
comment on column tollgate_private.refund_requests.payment_id is E'The provider payment refunded: pi_... (Stripe) or pay_... (Razorpay).';
comment on column tollgate_private.refund_requests.amount is E'Amount to refund in minor units.';
comment on column tollgate_private.refund_requests.currency is E'Lower-case ISO 4217 currency code.';
comment on column tollgate_private.refund_requests.reason is E'Why, as the admin wrote it (audited).';
comment on column tollgate_private.refund_requests.state is E'requested (written, the provider''s answer not recorded yet: it holds its amount), sent (the provider created refund_id) or failed (the provider refused it: nothing was refunded, the amount is free again).';
comment on column tollgate_private.refund_requests.refund_id is E'The provider''s refund: re_... or rfnd_... .';
comment on column tollgate_private.refund_requests.created_at is E'When it was asked.';
comment on column tollgate_private.refund_requests.updated_at is E'When the row was last changed.';
comment on column tollgate_private.refund_requests.error is E'What the provider answered when it refused the refund.';

alter table tollgate_private.refund_requests enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write refund requests" on tollgate_private.refund_requests
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.refund_requests
  for each row execute function tollgate_private.tg__set_updated_at();
