-- plpgsql for the reason in 0800_function_unix_time.sql: called on every subscription event. One
-- place knows Stripe's subscription shape, for every API version; the apply paths read its fields.
create function tollgate_private.stripe_subscription_fields(
  subscription jsonb,
  out id text,
  out customer text,
  out status text,
  out price text,
  out metadata_user uuid,
  out current_period_start timestamptz,
  out current_period_end timestamptz,
  out cancel_at timestamptz,
  out cancel_at_period_end boolean,
  out canceled_at timestamptz,
  out ended_at timestamptz,
  out trial_end timestamptz,
  out billing_cycle_anchor timestamptz,
  out created timestamptz
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_item jsonb := stripe_subscription_fields.subscription #> '{items,data,0}';
begin
  stripe_subscription_fields.id := stripe_subscription_fields.subscription ->> 'id';
  stripe_subscription_fields.customer := tollgate_private.provider_id(stripe_subscription_fields.subscription -> 'customer');
  stripe_subscription_fields.status := stripe_subscription_fields.subscription ->> 'status';
  -- The plan is the first item's price (Tollgate sells one price per subscription).
  stripe_subscription_fields.price := tollgate_private.provider_id(v_item -> 'price');
  stripe_subscription_fields.metadata_user :=
    tollgate_private.uuid_or_null(stripe_subscription_fields.subscription #>> '{metadata,user_id}');
  -- Since API 2025-03-31.basil the period lives on each item; older versions put it on the subscription.
  stripe_subscription_fields.current_period_start := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_start'),
    tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'current_period_start'));
  stripe_subscription_fields.current_period_end := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_end'),
    tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'current_period_end'));
  if stripe_subscription_fields.current_period_end <= stripe_subscription_fields.current_period_start then
    stripe_subscription_fields.current_period_end := null;
  end if;
  stripe_subscription_fields.cancel_at := tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'cancel_at');
  -- A cancel_at inside the period (a cancellation scheduled for a date) ends it as cancel_at_period_end does.
  stripe_subscription_fields.cancel_at_period_end :=
    coalesce((stripe_subscription_fields.subscription ->> 'cancel_at_period_end')::boolean, false)
      or (stripe_subscription_fields.cancel_at is not null
        and stripe_subscription_fields.cancel_at <= stripe_subscription_fields.current_period_end);
  stripe_subscription_fields.canceled_at := tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'canceled_at');
  stripe_subscription_fields.ended_at := tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'ended_at');
  stripe_subscription_fields.trial_end := tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'trial_end');
  stripe_subscription_fields.billing_cycle_anchor :=
    tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'billing_cycle_anchor');
  stripe_subscription_fields.created := tollgate_private.unix_time(stripe_subscription_fields.subscription -> 'created');
end;
$$;

comment on function tollgate_private.stripe_subscription_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe subscription object, of any API version: ids, status, the first item''s price, metadata.user_id (null unless a uuid), the period (from the first item since basil, from the subscription before; the end null unless after the start), cancellation (cancel_at_period_end also when cancel_at falls inside the period), trial end, billing anchor and creation time. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_subscription_fields(jsonb) from public, anon, authenticated, service_role;
