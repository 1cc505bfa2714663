create function tollgate_private.apply_stripe_subscription(
  subscription jsonb,
  event_at timestamptz,
  event_id text,
  user_hint uuid,
  refetched boolean default false
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Decoded once (0803): every field below is read from here.
  v_sub record := tollgate_private.stripe_subscription_fields(apply_stripe_subscription.subscription);
  v_stripe_id text := v_sub.id;
  v_user_id uuid;
  v_plan_id text;
  -- Written canceled instead when another live subscription of the user supersedes this one.
  v_status text := v_sub.status;
  v_local_id uuid;
  -- The id a new subscription gets, recorded in its provider_refs row when the watermark creates it.
  v_new_id uuid := gen_random_uuid();
  v_last_at timestamptz;
  v_last_id text;
  v_other record;
  v_reason text;
  v_superseded_by text;
begin
  if v_stripe_id is null or v_stripe_id !~ '^sub_' or v_status is null then
    raise exception 'Not a Stripe subscription object' using errcode = 'BADEV';
  end if;

  -- The lookup every Stripe path shares (0806): hint, metadata.user_id, customer, the subscription's ref.
  v_user_id := tollgate_private.stripe_user_of(
    apply_stripe_subscription.user_hint, v_sub.metadata_user, v_sub.customer, v_stripe_id);
  if v_user_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for subscription %s', v_stripe_id));
  end if;

  v_plan_id := tollgate_private.plan_of_stripe_price(v_sub.price);
  if v_plan_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no plan has Stripe price %s', coalesce(v_sub.price, '(none)')));
  end if;

  -- One writer per user at a time: two subscriptions of one user applied at once cannot both go live.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(v_user_id, 'stripe', v_sub.customer);
  if apply_stripe_subscription.event_at is null or apply_stripe_subscription.refetched then
    -- A snapshot Stripe's API just answered: the object's ref is locked (made if new). Without an
    -- event time (an answer to our own change, maybe a replay of an older answer) it moves no
    -- watermark, so every later event still applies; a re-fetch made for an event moves the
    -- watermark to that event's second whatever the ids, being newer than all of that second.
    insert into tollgate_private.provider_refs as r (provider, object_type, provider_id, local_id, user_id)
    values ('stripe', 'subscription', v_stripe_id, v_new_id, v_user_id)
    on conflict on constraint provider_refs_pkey do update
      set local_id = coalesce(r.local_id, excluded.local_id),
          user_id = coalesce(r.user_id, excluded.user_id);
    if apply_stripe_subscription.event_at is not null then
      update tollgate_private.provider_refs r
      set last_event_at = apply_stripe_subscription.event_at, last_event_id = apply_stripe_subscription.event_id
      where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id
        and (r.last_event_at is null or r.last_event_at <= apply_stripe_subscription.event_at);
      if not found then
        return jsonb_build_object('outcome', 'stale');
      end if;
    end if;
  else
    -- Stripe's created has whole seconds: two events of one second are not ordered by their
    -- random ids. A tie applies nothing here; the caller re-fetches the object (refetched).
    select r.last_event_at, r.last_event_id into v_last_at, v_last_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id
    for update;
    if v_last_at = apply_stripe_subscription.event_at and v_last_id is distinct from apply_stripe_subscription.event_id then
      return jsonb_build_object('outcome', 'tie');
    end if;
    if not tollgate_private.advance_watermark('stripe', 'subscription', v_stripe_id, apply_stripe_subscription.event_at,
        apply_stripe_subscription.event_id, v_new_id, v_user_id) then
      return jsonb_build_object('outcome', 'stale');
    end if;
  end if;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;

  -- Stripe never revives a canceled or expired subscription: a live snapshot of one is older news.
  if v_status not in ('canceled', 'incomplete_expired') and exists (
      select from tollgate.subscriptions s
      where s.id = v_local_id and s.status in ('canceled', 'incomplete_expired')) then
    return jsonb_build_object('outcome', 'stale', 'error', 'an ended subscription stays ended');
  end if;

  -- SECOND SUBSCRIPTION. At most one subscription per user is live here and billed at Stripe.
  -- When a second one goes live (two checkouts paid, or paid at once), the one created later at
  -- the provider wins (the user's latest purchase), whatever order the events arrive in. The
  -- other is canceled here with the audit reason 'superseded by ...' and, when Stripe bills it,
  -- a provider_actions row (written in this transaction, so it exists exactly when the local
  -- change does) has the functions cancel it at Stripe, prorated, right after the commit, retried
  -- until done with the action's id as Idempotency-Key. Until then its own events still say
  -- active: they meet the newer one live here, so this block keeps it canceled (v_status) and
  -- nothing flips back.
  if v_status = any (tollgate_private.live_statuses()) then
    for v_other in
      select s.id, s.provider, s.created_at, s.status, s.current_period_end,
        (select r.provider_id from tollgate_private.provider_refs r
         where r.provider = 'stripe' and r.object_type = 'subscription' and r.local_id = s.id
         limit 1) as stripe_id
      from tollgate.subscriptions s
      where s.user_id = v_user_id
        and s.status = any (tollgate_private.live_statuses())
        and s.id is distinct from v_local_id
      for update of s
    loop
      v_reason := nullif(current_setting('tollgate.audit_reason', true), '');
      if (v_other.provider = 'stripe'
          and v_other.created_at
            >= coalesce(v_sub.created, now()))
        -- A one-off payment (razorpay, internal) whose paid period still runs is never thrown away
        -- (a Razorpay order paid while this checkout was open): this one gives way instead.
        or (v_other.provider <> 'stripe' and v_other.status = any (tollgate_private.good_standing_statuses())
          and v_other.current_period_end > coalesce(apply_stripe_subscription.event_at, now())) then
        -- The live one is newer (or of the same second: the one live stays live, so nothing flips
        -- on a tie), or paid for: this one is written canceled (the reason stays set for that write).
        v_status := 'canceled';
        v_superseded_by := 'superseded by ' || coalesce(v_other.stripe_id,
          format('%s %s paid until %s', v_other.provider, v_other.id, v_other.current_period_end));
        perform set_config('tollgate.audit_reason', concat_ws(' ', v_reason, v_superseded_by), true);
        insert into tollgate_private.provider_actions (provider, action, provider_object_id, user_id, reason)
        values ('stripe', 'cancel_subscription', v_stripe_id, v_user_id, v_superseded_by)
        on conflict on constraint provider_actions_once do nothing;
      else
        perform set_config('tollgate.audit_reason', concat_ws(' ', v_reason, 'superseded by ' || v_stripe_id), true);
        update tollgate.subscriptions s
        set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_stripe_subscription.event_at, now()),
            ended_at = coalesce(apply_stripe_subscription.event_at, now())
        where s.id = v_other.id;
        perform set_config('tollgate.audit_reason', coalesce(v_reason, ''), true);
        if v_other.stripe_id is not null then
          insert into tollgate_private.provider_actions (provider, action, provider_object_id, user_id, reason)
          values ('stripe', 'cancel_subscription', v_other.stripe_id, v_user_id, 'superseded by ' || v_stripe_id)
          on conflict on constraint provider_actions_once do nothing;
        end if;
      end if;
    end loop;
  end if;

  -- A new subscription is inserted with the id its ref already points at.
  if v_local_id = v_new_id then
    insert into tollgate.subscriptions (
      id, user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor,
      cancel_at_period_end, canceled_at, ended_at, trial_end, created_at)
    values (
      v_new_id, v_user_id, v_plan_id, v_status, 'stripe', v_sub.current_period_start, v_sub.current_period_end,
      v_sub.billing_cycle_anchor, v_sub.cancel_at_period_end, v_sub.canceled_at, v_sub.ended_at, v_sub.trial_end,
      coalesce(v_sub.created, now()));
    -- Invoices seen before their subscription now get linked to it.
    update tollgate.invoices i
    set subscription_id = v_local_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.parent_id = v_stripe_id
      and i.id = r.local_id and i.subscription_id is null;
  else
    update tollgate.subscriptions s
    set plan_id = v_plan_id,
        status = v_status,
        current_period_start = v_sub.current_period_start,
        current_period_end = v_sub.current_period_end,
        billing_cycle_anchor = coalesce(v_sub.billing_cycle_anchor, s.billing_cycle_anchor),
        cancel_at_period_end = v_sub.cancel_at_period_end,
        canceled_at = v_sub.canceled_at,
        ended_at = v_sub.ended_at,
        trial_end = v_sub.trial_end
    where s.id = v_local_id
      -- An identical snapshot (a verify after its webhook) writes nothing.
      and (s.plan_id, s.status, s.current_period_start, s.current_period_end, s.cancel_at_period_end,
           s.canceled_at, s.ended_at, s.trial_end)
        is distinct from
          (v_plan_id, v_status, v_sub.current_period_start, v_sub.current_period_end, v_sub.cancel_at_period_end,
           v_sub.canceled_at, v_sub.ended_at, v_sub.trial_end);
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid, boolean) is
  E'Applies a Stripe subscription snapshot (any API version: periods from its first item, or from the subscription before basil) unless a newer event about it was applied already. Decodes it with stripe_subscription_fields and finds the user with stripe_user_of (hint, metadata.user_id, customer, its ref), the plan by the first item''s price. event_at null = a snapshot Stripe''s API answered (moves no watermark); refetched = fetched for an event of event_at (wins a tie of that second). An ended (canceled, incomplete_expired) subscription stays ended. Outcome applied, stale, tie (another event of the same second was applied: re-fetch and apply with refetched) or unlinked.';

revoke all on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid, boolean) from public, anon, authenticated, service_role;
