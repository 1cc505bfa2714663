create table tollgate.credit_balances (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  metric text not null check (length(metric) between 1 and 100),
  granted bigint not null check (granted > 0),
  remaining bigint not null check (remaining >= 0),
  expires_at timestamptz,
  source text not null check (source in ('purchase', 'admin')),
  purchase_id uuid references tollgate.purchases (id) on delete cascade,
  reason text,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Added by issue 16, last so that sql/ and the migrations agree on the column order.
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  constraint credit_balances_remaining_within_grant check (remaining <= granted),
  constraint credit_balances_purchase_has_purchase_id check ((source = 'purchase') = (purchase_id is not null)),
  constraint credit_balances_admin_has_reason check (source <> 'admin' or coalesce(length(reason), 0) > 0),
  constraint credit_balances_revoked_are_empty check (revoked_at is null or remaining = 0)
);

-- consume_usage draws the credits of one user and metric, earliest expiry first.
create index credit_balances_user_id_metric_expires_at_idx on tollgate.credit_balances
  (user_id, metric, expires_at) where remaining > 0;
create index credit_balances_purchase_id_idx on tollgate.credit_balances (purchase_id);
-- An admin's retried grant (same key) is the same grant.
create unique index credit_balances_user_id_idempotency_key_key on tollgate.credit_balances
  (user_id, idempotency_key) where idempotency_key is not null;

comment on index tollgate.credit_balances_user_id_idempotency_key_key is
  E'One admin grant per user and idempotency key: a retried request grants once.';
comment on table tollgate.credit_balances is
  E'Credits: extra quota of one metric from a purchase or an admin grant, used after the plan''s quota for the period is spent, earliest expiry first. One row per grant. Written only by Tollgate.';
comment on column tollgate.credit_balances.id is E'Grant id.';
comment on column tollgate.credit_balances.user_id is E'Whose credits (auth.users).';
comment on column tollgate.credit_balances.metric is E'The metric the credits count for.';
comment on column tollgate.credit_balances.granted is E'Credits granted.';
comment on column tollgate.credit_balances.remaining is E'Credits not used yet (0 once used up or revoked). Expired credits keep their number but count for nothing.';
comment on column tollgate.credit_balances.expires_at is E'Unusable from this moment on; null = never expires.';
comment on column tollgate.credit_balances.source is E'purchase (a paid product) or admin (granted by an admin, with a reason).';
comment on column tollgate.credit_balances.purchase_id is E'The purchase that granted them (source purchase).';
comment on column tollgate.credit_balances.reason is E'Why an admin granted them.';
comment on column tollgate.credit_balances.revoked_at is E'When the unused credits were taken back (the purchase was refunded); used ones stay used.';
comment on column tollgate.credit_balances.idempotency_key is E'The key an admin grant was made with (admin_grant_credits): the same key again for this user answers this grant and grants nothing.';
comment on column tollgate.credit_balances.created_at is E'When the credits were granted.';
comment on column tollgate.credit_balances.updated_at is E'When the row was last changed.';

alter table tollgate.credit_balances enable row level security;

create policy "Users read their own credits, admins read all" on tollgate.credit_balances
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.credit_balances to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.credit_balances
  for each row execute function tollgate_private.tg__set_updated_at();
