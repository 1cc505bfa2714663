create function tollgate_private.stripe_user_of(
  hint uuid,
  metadata_user uuid,
  customer text,
  subscription text,
  checkout_session text default null
)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_user_id uuid := coalesce(stripe_user_of.hint, stripe_user_of.metadata_user);
begin
  -- In this order: what the caller knows, the object's metadata, the customer linked earlier, the
  -- refs of the subscription and of the checkout session. The first one found decides. Lookups are
  -- statements of their own, each run only when needed: inside one coalesce Postgres planned it
  -- again on every call.
  if v_user_id is null and stripe_user_of.customer is not null then
    select c.user_id into v_user_id
    from tollgate_private.customers c
    where c.provider = 'stripe' and c.provider_customer_id = stripe_user_of.customer;
  end if;
  if v_user_id is null and stripe_user_of.subscription is not null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = stripe_user_of.subscription;
  end if;
  if v_user_id is null and stripe_user_of.checkout_session is not null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'checkout_session'
      and r.provider_id = stripe_user_of.checkout_session;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return null;
  end if;
  return v_user_id;
end;
$$;

comment on function tollgate_private.stripe_user_of(uuid, uuid, text, text, text) is
  E'The Tollgate user a Stripe object belongs to, the same way for subscriptions, invoices and checkouts: the hint the caller gives (verify-payment''s user, a checkout''s client_reference_id), else the object''s metadata.user_id, else the user the customer was linked to, else the user recorded for the subscription, else for the checkout session. Null when none is found or the one found is not a user (the event is unlinked).';

revoke all on function tollgate_private.stripe_user_of(uuid, uuid, text, text, text) from public, anon, authenticated, service_role;
