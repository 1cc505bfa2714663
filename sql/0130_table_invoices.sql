create table tollgate.invoices (
  id uuid primary key default gen_random_uuid(),
  -- Null once the user is forgotten (deleted): the invoice stays, as tax law asks, without them.
  user_id uuid references auth.users (id) on delete set null,
  subscription_id uuid references tollgate.subscriptions (id) on delete set null,
  provider text not null check (provider in ('stripe', 'razorpay', 'internal')),
  number text,
  status text not null check (status in ('draft', 'open', 'paid', 'void', 'uncollectible')),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  amount_due bigint not null default 0 check (amount_due >= 0),
  amount_paid bigint not null default 0 check (amount_paid >= 0),
  period_start timestamptz,
  period_end timestamptz,
  hosted_invoice_url text,
  invoice_pdf text,
  paid_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Added in December (after updated_at, where ALTER TABLE puts it).
  amount_refunded bigint not null default 0 check (amount_refunded >= 0),
  constraint invoices_refund_within_payment check (amount_refunded <= amount_paid)
);

create index invoices_user_id_created_at_idx on tollgate.invoices (user_id, created_at desc);
create index invoices_subscription_id_idx on tollgate.invoices (subscription_id);

comment on table tollgate.invoices is
  E'Invoices of each user, copied from the payment provider. Written only by Tollgate.';
comment on column tollgate.invoices.id is E'Invoice id.';
comment on column tollgate.invoices.user_id is E'Who the invoice is for (auth.users); null once that user was deleted (delete-account or a deletion in Auth): the invoice is kept for the accounts, without personal data.';
comment on column tollgate.invoices.subscription_id is E'The subscription billed, if any.';
comment on column tollgate.invoices.provider is E'Who issued it: stripe, razorpay or internal.';
comment on column tollgate.invoices.number is E'The provider''s human-readable invoice number.';
comment on column tollgate.invoices.status is E'draft, open, paid, void or uncollectible.';
comment on column tollgate.invoices.currency is E'Lower-case ISO 4217 currency code.';
comment on column tollgate.invoices.amount_due is E'Amount due in minor units of currency.';
comment on column tollgate.invoices.amount_paid is E'Amount paid so far in minor units of currency.';
comment on column tollgate.invoices.period_start is E'Start of the period billed.';
comment on column tollgate.invoices.period_end is E'End of the period billed.';
comment on column tollgate.invoices.hosted_invoice_url is E'Page where the user can see and pay the invoice (it shows their name and address: cleared when the user is forgotten).';
comment on column tollgate.invoices.invoice_pdf is E'Link to the invoice PDF (cleared when the user is forgotten, as the page).';
comment on column tollgate.invoices.amount_refunded is E'Amount refunded to the payer so far in minor units (refunds recorded from the provider''s events); never more than amount_paid.';
comment on column tollgate.invoices.paid_at is E'When the invoice was paid.';
comment on column tollgate.invoices.created_at is E'When the invoice was created.';
comment on column tollgate.invoices.updated_at is E'When the row was last changed.';

alter table tollgate.invoices enable row level security;

create policy "Users read their own invoices, admins read all" on tollgate.invoices
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.invoices to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.invoices
  for each row execute function tollgate_private.tg__set_updated_at();
