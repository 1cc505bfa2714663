create table tollgate_private.provider_refs (
  provider text not null check (provider in ('stripe', 'razorpay')),
  object_type text not null check (object_type in ('subscription', 'invoice', 'checkout_session', 'order', 'payment', 'payment_intent', 'charge', 'refund', 'dispute')),
  provider_id text not null check (length(provider_id) between 1 and 255),
  local_id uuid,
  user_id uuid references auth.users (id) on delete cascade,
  parent_id text,
  details jsonb not null default '{}'::jsonb,
  last_event_at timestamptz,
  last_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (provider, object_type, provider_id)
  -- Every event moves its object's watermark: room on the page keeps those updates HOT.
) with (fillfactor = 80);

create index provider_refs_local_id_idx on tollgate_private.provider_refs (local_id);
create index provider_refs_user_id_idx on tollgate_private.provider_refs (user_id);
create index provider_refs_parent_id_idx on tollgate_private.provider_refs (provider, parent_id);

comment on table tollgate_private.provider_refs is
  E'Provider object ids (sub_..., in_..., order_...) and the Tollgate row each maps to, with the newest event applied to it so late events never overwrite newer state.';
comment on column tollgate_private.provider_refs.provider is E'stripe or razorpay.';
comment on column tollgate_private.provider_refs.object_type is E'subscription, invoice, checkout_session, order, payment, payment_intent, charge, refund or dispute.';
comment on column tollgate_private.provider_refs.provider_id is E'The provider''s id of the object.';
comment on column tollgate_private.provider_refs.local_id is E'The matching Tollgate row (subscriptions.id, invoices.id or purchases.id), when there is one.';
comment on column tollgate_private.provider_refs.user_id is E'The user the object belongs to.';
comment on column tollgate_private.provider_refs.parent_id is E'The provider id of the object this one belongs to, e.g. the subscription of an invoice.';
comment on column tollgate_private.provider_refs.details is E'What Tollgate must remember about the object, e.g. the plan, amount and checkout id of a Razorpay order.';
comment on column tollgate_private.provider_refs.last_event_at is E'Creation time of the newest provider event applied to this object (the watermark).';
comment on column tollgate_private.provider_refs.last_event_id is E'Id of that event; breaks ties between events created in the same second.';
comment on column tollgate_private.provider_refs.created_at is E'When the object was first seen.';
comment on column tollgate_private.provider_refs.updated_at is E'When the row was last changed.';

alter table tollgate_private.provider_refs enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write provider refs" on tollgate_private.provider_refs
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.provider_refs
  for each row execute function tollgate_private.tg__set_updated_at();
