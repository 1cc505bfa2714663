create function tollgate_private.apply_stripe_purchase(session jsonb, user_id uuid, event_at timestamptz, source text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session record := tollgate_private.stripe_checkout_fields(apply_stripe_purchase.session);
  v_intent jsonb := apply_stripe_purchase.session -> 'payment_intent';
  v_result jsonb;
begin
  if v_session.id is null or v_session.id !~ '^cs_' then
    perform tollgate_private.raise_error('BADEV', 'Not a Stripe Checkout Session object');
  end if;
  -- verify-payment: ownership is what the session names (Tollgate's checkout sets both).
  if apply_stripe_purchase.user_id is not null
    and coalesce(v_session.client_reference_user, v_session.metadata_user) is distinct from apply_stripe_purchase.user_id then
    perform tollgate_private.raise_error('NOTYR', 'This checkout is not yours');
  end if;
  if v_session.mode is distinct from 'payment'
    or v_session.payment_status not in ('paid', 'no_payment_required') then
    -- Unpaid (an async method still pending): checkout.session.async_payment_succeeded applies it.
    if apply_stripe_purchase.user_id is not null then
      perform tollgate_private.raise_error('NOTPD', 'The checkout is not paid yet',
        detail => format('status %s, payment_status %s', v_session.status, v_session.payment_status));
    end if;
    return jsonb_build_object('outcome', 'ignored', 'error', 'not paid yet');
  end if;
  v_result := tollgate_private.apply_purchase(
    'stripe', v_session.id, apply_stripe_purchase.user_id,
    -- Expandable: the PaymentIntent's id, or the object with its id; none when nothing was due.
    case jsonb_typeof(v_intent) when 'string' then v_intent #>> '{}' when 'object' then v_intent ->> 'id' end,
    (apply_stripe_purchase.session ->> 'amount_total')::bigint,
    apply_stripe_purchase.session ->> 'currency',
    apply_stripe_purchase.source,
    coalesce(apply_stripe_purchase.event_at, now()));
  -- The other path (or delivery) applied it first: for the webhook ledger that is applied.
  if v_result ->> 'outcome' = 'duplicate' and apply_stripe_purchase.user_id is null then
    v_result := v_result || jsonb_build_object('outcome', 'applied');
  end if;
  return v_result;
end;
$$;

comment on function tollgate_private.apply_stripe_purchase(jsonb, uuid, timestamptz, text) is
  E'Applies a completed payment-mode Stripe Checkout Session of a product (amount_total, currency and payment_intent as Stripe reports them) through apply_purchase. An unpaid session grants nothing (webhook: outcome ignored; verify-payment, user_id given: NOTPD); verify-payment also checks the session is the caller''s (NOTYR).';

revoke all on function tollgate_private.apply_stripe_purchase(jsonb, uuid, timestamptz, text) from public, anon, authenticated, service_role;
