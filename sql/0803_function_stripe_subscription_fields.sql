-- plpgsql for the reason in 0800_function_unix_time.sql: called on every subscription event. One
-- place knows Stripe's subscription shape, for every API version; the apply paths read its fields.
-- Conversions are written inline, not calls to helpers: every call of a function with a pinned
-- search_path saves and restores the setting (7 to 12 us each, 14 per subscription measured).
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
  v_sub jsonb := stripe_subscription_fields.subscription;
  v_item jsonb := v_sub #> '{items,data,0}';
  v_value jsonb;
  v_text text;
begin
  stripe_subscription_fields.id := v_sub ->> 'id';
  stripe_subscription_fields.status := v_sub ->> 'status';
  -- Expandable fields are an id string or the expanded object with its id.
  v_value := v_sub -> 'customer';
  stripe_subscription_fields.customer := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  -- The plan is the first item's price (Tollgate sells one price per subscription).
  v_value := v_item -> 'price';
  stripe_subscription_fields.price := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  -- Metadata is untrusted text: a user id only when it is a uuid.
  v_text := v_sub #>> '{metadata,user_id}';
  stripe_subscription_fields.metadata_user := case
    when v_text ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then v_text::uuid end;

  -- Times are Unix seconds as JSON numbers; anything else (null) is no time.
  -- Since API 2025-03-31.basil the period lives on each item; older versions put it on the subscription.
  v_value := v_item -> 'current_period_start';
  if jsonb_typeof(v_value) is distinct from 'number' then
    v_value := v_sub -> 'current_period_start';
  end if;
  stripe_subscription_fields.current_period_start := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_item -> 'current_period_end';
  if jsonb_typeof(v_value) is distinct from 'number' then
    v_value := v_sub -> 'current_period_end';
  end if;
  stripe_subscription_fields.current_period_end := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  if stripe_subscription_fields.current_period_end <= stripe_subscription_fields.current_period_start then
    stripe_subscription_fields.current_period_end := null;
  end if;
  v_value := v_sub -> 'cancel_at';
  stripe_subscription_fields.cancel_at := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  -- A cancel_at inside the period (a cancellation scheduled for a date) ends it as cancel_at_period_end does.
  stripe_subscription_fields.cancel_at_period_end := coalesce((v_sub ->> 'cancel_at_period_end')::boolean, false)
    or (stripe_subscription_fields.cancel_at is not null
      and stripe_subscription_fields.cancel_at <= stripe_subscription_fields.current_period_end);
  v_value := v_sub -> 'canceled_at';
  stripe_subscription_fields.canceled_at := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_sub -> 'ended_at';
  stripe_subscription_fields.ended_at := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_sub -> 'trial_end';
  stripe_subscription_fields.trial_end := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_sub -> 'billing_cycle_anchor';
  stripe_subscription_fields.billing_cycle_anchor := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_sub -> 'created';
  stripe_subscription_fields.created := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
end;
$$;

comment on function tollgate_private.stripe_subscription_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe subscription object, of any API version: ids (expanded or not), status, the first item''s price, metadata.user_id (null unless a uuid), the period (from the first item since basil, from the subscription before; the end null unless after the start), cancellation (cancel_at_period_end also when cancel_at falls inside the period), trial end, billing anchor and creation time. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_subscription_fields(jsonb) from public, anon, authenticated, service_role;
