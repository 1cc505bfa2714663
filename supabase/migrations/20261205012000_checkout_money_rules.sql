-- Checkout money rules (issue 11 items 3 and 4, review M-1, M-2, S-1, S-3 b).
-- Coupons: one open discounted checkout per user and coupon (a newer checkout takes the use
-- over); a paid checkout is accounted against the use its discount belongs to, and one with no use
-- left is recorded as an overrun (coupon_redemptions status overrun, coupons.times_overrun,
-- audit_log) instead of being counted past max_uses or hidden.
-- Second subscriptions: the outbox tollgate_private.provider_actions (cancel at Stripe the older
-- of two live subscriptions, done by the functions after the commit); prepare_checkout lists the
-- user's open Stripe Checkout Sessions so a new checkout expires them.
-- Razorpay: another plan is refused (HASUB) while a paid period runs and held when paid anyway; a
-- late renewal starts a new paid period and billing anchor at the payment.
-- Hand-written where a diff cannot say it: the unique constraint of coupon_redemptions becomes a
-- partial unique index (overrun rows sit beside a user's use). The functions are the text of the
-- files in sql/ (create or replace keeps privileges and comments of those that exist).

-- ==== sql/0240_table_coupons.sql (times_overrun)
alter table tollgate_private.coupons
  add column times_overrun integer not null default 0 check (times_overrun >= 0);
comment on column tollgate_private.coupons.times_redeemed is E'Uses taken so far: reserved by an open checkout or redeemed by a paid one. Never exceeds max_uses.';
comment on column tollgate_private.coupons.times_overrun is
  E'Paid checkouts that carried the discount although no use was left for them (max_uses reached, or the account had used the coupon already): not counted in times_redeemed, each one a coupon_redemptions row with status overrun and an audit_log row, for an operator to look at.';

-- ==== sql/0250_table_coupon_redemptions.sql (status overrun; one use per user beside overruns)
alter table tollgate_private.coupon_redemptions
  drop constraint coupon_redemptions_status_check,
  add constraint coupon_redemptions_status_check
    check (status in ('reserved', 'redeemed', 'released', 'overrun')),
  drop constraint coupon_redemptions_coupon_code_user_id_key;
-- One use per user and coupon; overruns (paid checkouts past the limits) are extra rows beside it.
create unique index coupon_redemptions_one_per_user
  on tollgate_private.coupon_redemptions (coupon_code, user_id)
  where status <> 'overrun';
-- A paid checkout is recorded as an overrun once, whichever of webhook and verify comes first.
create unique index coupon_redemptions_one_overrun_per_checkout
  on tollgate_private.coupon_redemptions (checkout_ref)
  where status = 'overrun';

comment on index tollgate_private.coupon_redemptions_one_per_user is
  E'One use of a coupon per user (reserved, redeemed or released); rows with status overrun are not uses and sit beside it.';
comment on index tollgate_private.coupon_redemptions_one_overrun_per_checkout is
  E'A paid checkout is recorded as an overrun at most once.';

comment on table tollgate_private.coupon_redemptions is
  E'Who used which coupon: reserved at checkout (one open discounted checkout per user and coupon: a new checkout takes the reservation over), redeemed when paid, released when the checkout expires or fails. A paid checkout that carried the discount with no use left for it (max_uses reached, or the account used the coupon already) is recorded as an overrun: never counted in times_redeemed, never hidden.';
comment on column tollgate_private.coupon_redemptions.checkout_ref is E'The checkout holding the reservation now (the newest one), or the paid checkout that redeemed it or overran it (Tollgate checkout id).';
comment on column tollgate_private.coupon_redemptions.checkout_refs is E'Every checkout that carried this use''s discount, newest last: a payment of any of them is accounted against this row (redeemed while a use is held or left, else an overrun). Empty on the extra overrun rows a second paid checkout adds.';
comment on column tollgate_private.coupon_redemptions.status is E'reserved (an open checkout holds the use), redeemed (paid), released (given back: abandoned, failed or expired), or overrun (a paid checkout that carried the discount with no use left for it: see coupons.times_overrun and audit_log).';

-- ==== sql/0280_table_provider_actions.sql
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

-- ==== sql/0810_function_reserve_coupon.sql
create or replace function tollgate_private.reserve_coupon(
  code text,
  user_id uuid,
  plan_id text,
  provider text,
  checkout_ref text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
-- The ON CONFLICT target names columns (coupon_code, user_id) that share a name with arguments.
#variable_conflict use_column
declare
  v_code text := upper(btrim(reserve_coupon.code));
  v_coupon tollgate_private.coupons;
  v_redemption tollgate_private.coupon_redemptions;
begin
  -- The row lock serialises reservations of one coupon: max_uses can never be overrun.
  select c.* into v_coupon from tollgate_private.coupons c where c.code = v_code for update;

  if v_coupon.code is null or not v_coupon.active then
    raise exception 'Coupon % does not exist', coalesce(v_code, '')
      using errcode = 'CPINV', hint = 'Check the code.';
  end if;
  if v_coupon.valid_from > reserve_coupon.as_of or v_coupon.valid_until <= reserve_coupon.as_of then
    raise exception 'Coupon % is not valid now', v_code
      using errcode = 'CPEXP',
            detail = format('valid from %s until %s', coalesce(v_coupon.valid_from::text, '-'), coalesce(v_coupon.valid_until::text, '-'));
  end if;
  if v_coupon.plan_ids is not null and not (reserve_coupon.plan_id = any (v_coupon.plan_ids)) then
    raise exception 'Coupon % does not apply to plan %', v_code, reserve_coupon.plan_id
      using errcode = 'CPPLN', detail = format('applies to %s', array_to_string(v_coupon.plan_ids, ', '));
  end if;

  -- Redeemed, or already overrun by a paid checkout: the account has had its discount.
  if exists (
    select from tollgate_private.coupon_redemptions r
    where r.coupon_code = v_code and r.user_id = reserve_coupon.user_id and r.status in ('redeemed', 'overrun')
  ) then
    raise exception 'Coupon % was already used by this account', v_code using errcode = 'CPUSD';
  end if;

  select r.* into v_redemption
  from tollgate_private.coupon_redemptions r
  where r.coupon_code = v_code and r.user_id = reserve_coupon.user_id and r.status <> 'overrun';

  if v_redemption.status is distinct from 'reserved' then
    -- A new use (or a use again after a released reservation) takes one of max_uses.
    if v_coupon.max_uses is not null and v_coupon.times_redeemed >= v_coupon.max_uses then
      raise exception 'Coupon % has been used up', v_code
        using errcode = 'CPMAX', hint = 'Check out without the coupon.';
    end if;
    update tollgate_private.coupons c set times_redeemed = c.times_redeemed + 1 where c.code = v_code;
  end if;

  -- One open discounted checkout per user and coupon: the new checkout takes the reservation over
  -- (checkout_ref) and the older ones no longer hold it. Every checkout that carried the discount
  -- stays listed (checkout_refs), so paying an older one is still accounted for by settle_coupon:
  -- it redeems the use while one is held or left, and is recorded as an overrun otherwise.
  insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, checkout_ref, checkout_refs, status)
  values (v_code, reserve_coupon.user_id, reserve_coupon.plan_id, reserve_coupon.provider, reserve_coupon.checkout_ref,
    array[reserve_coupon.checkout_ref], 'reserved')
  on conflict (coupon_code, user_id) where status <> 'overrun' do update
    set plan_id = excluded.plan_id,
        provider = excluded.provider,
        checkout_ref = excluded.checkout_ref,
        checkout_refs = tollgate_private.coupon_redemptions.checkout_refs || excluded.checkout_ref,
        status = 'reserved'
  returning * into v_redemption;

  return jsonb_build_object(
    'code', v_coupon.code,
    'percent_off', v_coupon.percent_off,
    'amount_off', v_coupon.amount_off,
    'currency', v_coupon.currency,
    'stripe_coupon_id', v_coupon.stripe_coupon_id,
    'redemption_id', v_redemption.id
  );
end;
$$;

comment on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) is
  E'Reserves one use of a coupon for a checkout, atomically: refuses unknown (CPINV), out-of-window (CPEXP), wrong-plan (CPPLN), used-up (CPMAX) and already-used (CPUSD) coupons. A user''s new checkout takes over the use their older open checkout held (one open discounted checkout per user and coupon). Returns the discount.';

revoke all on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0811_function_settle_coupon.sql
create or replace function tollgate_private.settle_coupon(checkout_ref text, paid boolean)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_found tollgate_private.coupon_redemptions;
  v_redemption tollgate_private.coupon_redemptions;
  v_coupon tollgate_private.coupons;
  v_overrun_id uuid;
  v_why text;
begin
  -- The use this checkout's discount belongs to (the checkout is its current holder or an older one).
  select r.* into v_found
  from tollgate_private.coupon_redemptions r
  where r.checkout_refs @> array[settle_coupon.checkout_ref]
  limit 1;
  if v_found.id is null then
    return;
  end if;

  -- Locks in reserve_coupon's order (coupon, then redemption): a reservation of the same coupon
  -- waits, and max_uses is checked against a count nobody else is moving.
  select c.* into v_coupon from tollgate_private.coupons c where c.code = v_found.coupon_code for update;
  select r.* into v_redemption from tollgate_private.coupon_redemptions r where r.id = v_found.id for update;

  if not settle_coupon.paid then
    -- Only the checkout now holding the reservation gives it back (an older, superseded one holds
    -- nothing); a paid or given-back use is not given back twice.
    if v_redemption.status = 'reserved' and v_redemption.checkout_ref = settle_coupon.checkout_ref then
      update tollgate_private.coupon_redemptions r set status = 'released' where r.id = v_redemption.id;
      update tollgate_private.coupons c
      set times_redeemed = greatest(c.times_redeemed - 1, 0)
      where c.code = v_redemption.coupon_code;
    end if;
    return;
  end if;

  -- GUARD: this checkout was settled as paid already (verify-payment and the webhook both settle).
  if (v_redemption.status = 'redeemed' and v_redemption.checkout_ref = settle_coupon.checkout_ref)
    or exists (
      select from tollgate_private.coupon_redemptions r
      where r.checkout_ref = settle_coupon.checkout_ref and r.status = 'overrun') then
    return;
  end if;

  if v_redemption.status = 'reserved' then
    -- The use is held: by this checkout, or by a newer open one of the same user, which loses it
    -- (one use per account: if that one is paid too, it is an overrun).
    update tollgate_private.coupon_redemptions r
    set status = 'redeemed', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    return;
  end if;

  if v_redemption.status = 'released' and (v_coupon.max_uses is null or v_coupon.times_redeemed < v_coupon.max_uses) then
    -- Paid after its use was given back (e.g. by maintenance), and a use is left: it takes it now.
    update tollgate_private.coupons c set times_redeemed = c.times_redeemed + 1 where c.code = v_coupon.code;
    update tollgate_private.coupon_redemptions r
    set status = 'redeemed', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    return;
  end if;

  -- The checkout was paid with a discount no use is left for: the payment stands (the provider
  -- took it), the overrun is recorded where an operator sees it and times_redeemed stays within
  -- max_uses.
  if v_redemption.status = 'released' then
    v_why := format('no use of %s left (%s of %s taken) when the checkout was paid after its reservation was released',
      v_coupon.code, v_coupon.times_redeemed, v_coupon.max_uses);
    -- It keeps its checkout_refs: a later payment of another of them finds this row (an overrun too).
    update tollgate_private.coupon_redemptions r
    set status = 'overrun', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    v_overrun_id := v_redemption.id;
  else
    -- redeemed (or overrun) by another checkout of the same account: a second discount.
    v_why := format('%s was already used by this account (checkout %s)', v_coupon.code, v_redemption.checkout_ref);
    insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, checkout_ref, checkout_refs, status)
    values (v_redemption.coupon_code, v_redemption.user_id, v_redemption.plan_id, v_redemption.provider,
      settle_coupon.checkout_ref, '{}', 'overrun')
    returning id into v_overrun_id;
  end if;
  update tollgate_private.coupons c set times_overrun = c.times_overrun + 1 where c.code = v_coupon.code;
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  values (
    'coupon_redemptions', v_overrun_id, v_redemption.user_id,
    case when v_overrun_id = v_redemption.id then 'update' else 'insert' end,
    case when v_overrun_id = v_redemption.id then jsonb_build_object('status', v_redemption.status) end,
    jsonb_build_object('status', 'overrun', 'coupon_code', v_coupon.code, 'checkout_ref', settle_coupon.checkout_ref),
    auth.uid(),
    coalesce(nullif(auth.role(), ''), session_user::text),
    concat_ws(' ', 'coupon_overrun:', v_why,
      '(' || nullif(current_setting('tollgate.audit_reason', true), '') || ')'));
end;
$$;

comment on function tollgate_private.settle_coupon(text, boolean) is
  E'Settles the coupon use a checkout''s discount belongs to. Paid: redeemed when the use is held (by this checkout, or by a newer open one of the same user, which loses it) or, given back meanwhile, when a use is left; otherwise the payment is recorded as an overrun (status overrun, coupons.times_overrun, audit_log) and times_redeemed never passes max_uses. Not paid: gives the use back when this checkout holds it. Settling a checkout again changes nothing.';

revoke all on function tollgate_private.settle_coupon(text, boolean) from public, anon, authenticated, service_role;

-- ==== sql/0822_function_prepare_checkout.sql
create or replace function tollgate_private.prepare_checkout(
  user_id uuid,
  plan_id text,
  provider text,
  coupon_code text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_checkout_id uuid := gen_random_uuid();
  v_coupon jsonb;
  v_amount bigint;
begin
  if not exists (select from auth.users u where u.id = prepare_checkout.user_id) then
    raise exception 'Unknown user %', prepare_checkout.user_id using errcode = 'NOUSR';
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = prepare_checkout.plan_id;
  if v_plan.id is null then
    raise exception 'Unknown plan %', prepare_checkout.plan_id using errcode = 'NOPLN';
  end if;
  if not v_plan.active then
    raise exception 'Plan % cannot be bought any more', v_plan.id using errcode = 'PLINA';
  end if;

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = prepare_checkout.user_id and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_plan.amount = 0 then
    -- A free plan needs no payment: the caller ends the live subscription, if any.
    return jsonb_build_object(
      'kind', 'free',
      'plan', to_jsonb(v_plan),
      'live', tollgate_private.live_subscription_of(prepare_checkout.user_id));
  end if;

  if prepare_checkout.provider = 'stripe' and v_plan.stripe_price_id is null then
    raise exception 'Plan % has no Stripe price', v_plan.id
      using errcode = 'PLINA', hint = 'Set tollgate.plans.stripe_price_id.';
  end if;

  if v_live.id is not null then
    if v_live.plan_id = v_plan.id and v_live.provider = 'stripe' then
      raise exception 'You are already on plan %', v_plan.id using errcode = 'SAMEP';
    end if;
    -- Razorpay is paid one interval at a time: paying again renews (same plan) or switches.
    if not (v_live.provider = 'razorpay' and prepare_checkout.provider = 'razorpay') then
      raise exception 'You already have a % subscription to plan %', v_live.provider, v_live.plan_id
        using errcode = 'HASUB',
              hint = case when v_live.provider = 'stripe'
                then 'Use /billing/change-plan to switch plans.'
                else 'Cancel it first, or pay with the same provider.' end;
    end if;
    -- A paid period is never thrown away: another plan only once the paid one has run out (in
    -- grace or lapsed); the same plan is a renewal, allowed at any time.
    if v_live.plan_id <> v_plan.id and v_live.status in ('trialing', 'active')
      and v_live.current_period_end > prepare_checkout.as_of then
      raise exception 'Your plan % is paid until %', v_live.plan_id, v_live.current_period_end
        using errcode = 'HASUB',
              hint = format('Renew %s, or buy %s once the paid period has ended.', v_live.plan_id, v_plan.id);
    end if;
  end if;

  v_amount := v_plan.amount;
  if prepare_checkout.coupon_code is not null then
    v_coupon := tollgate_private.reserve_coupon(
      prepare_checkout.coupon_code, prepare_checkout.user_id, v_plan.id, prepare_checkout.provider,
      v_checkout_id::text, prepare_checkout.as_of);
    if v_coupon ->> 'amount_off' is not null and v_coupon ->> 'currency' <> v_plan.currency then
      raise exception 'Coupon % is in %, the plan in %', v_coupon ->> 'code', v_coupon ->> 'currency', v_plan.currency
        using errcode = 'CPCUR';
    end if;
    v_amount := greatest(
      v_plan.amount
        - coalesce((v_coupon ->> 'amount_off')::bigint, 0)
        - coalesce(round(v_plan.amount * (v_coupon ->> 'percent_off')::numeric / 100)::bigint, 0),
      0);
  end if;

  return jsonb_build_object(
    'kind', case when v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then 'renewal' else 'new' end,
    'checkout_id', v_checkout_id,
    'plan', to_jsonb(v_plan),
    'amount', v_amount,
    'currency', v_plan.currency,
    'coupon', v_coupon,
    'customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = prepare_checkout.user_id and c.provider = prepare_checkout.provider),
    -- The user's older Stripe Checkout Sessions that may still be open (Stripe keeps one open 24
    -- hours): the caller expires them at Stripe before opening this one, so at most one checkout
    -- of the user can be paid (and one coupon discount be open).
    'open_sessions', (
      select coalesce(jsonb_agg(r.provider_id order by r.created_at), '[]'::jsonb)
      from tollgate_private.provider_refs r
      where r.user_id = prepare_checkout.user_id
        and r.provider = 'stripe' and r.object_type = 'checkout_session'
        and coalesce(r.details ->> 'state', 'open') = 'open'
        and r.created_at > prepare_checkout.as_of - interval '25 hours')
  );
end;
$$;

comment on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) is
  E'First step of a checkout: checks the plan (NOPLN, PLINA) and the user''s live subscription (SAMEP; HASUB for another provider, or for another Razorpay plan while a paid period runs), reserves the coupon if one is given, and returns the checkout id, plan, amount after discount, the user''s provider customer and open_sessions, the user''s Stripe Checkout Sessions that may still be open (the caller expires them first). kind = free means no payment is needed.';

revoke all on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0823_function_record_checkout.sql
create or replace function tollgate_private.record_checkout(
  user_id uuid,
  provider text,
  provider_checkout_id text,
  checkout_id uuid,
  plan_id text,
  amount bigint,
  currency text,
  extra jsonb default '{}'::jsonb
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id, details)
  values (
    record_checkout.provider,
    case record_checkout.provider when 'stripe' then 'checkout_session' else 'order' end,
    record_checkout.provider_checkout_id,
    record_checkout.user_id,
    jsonb_build_object(
      'checkout_id', record_checkout.checkout_id,
      'plan_id', record_checkout.plan_id,
      'amount', record_checkout.amount,
      'currency', record_checkout.currency))
  on conflict do nothing;

  select tollgate_private.link_customer(record_checkout.user_id, record_checkout.provider, record_checkout.extra ->> 'customer_id')
  where record_checkout.extra ->> 'customer_id' is not null;

  -- The older sessions the caller expired at Stripe before this checkout: not open any more.
  update tollgate_private.provider_refs r
  set details = r.details || jsonb_build_object('state', 'expired')
  where r.provider = 'stripe' and r.object_type = 'checkout_session'
    and r.user_id = record_checkout.user_id
    and r.provider_id in (
      select jsonb_array_elements_text(coalesce(record_checkout.extra -> 'expired_sessions', '[]'::jsonb)));

  -- The Stripe coupon made for a Tollgate coupon on its first use is reused from then on.
  update tollgate_private.coupons c
  set stripe_coupon_id = record_checkout.extra ->> 'stripe_coupon_id'
  where c.code = record_checkout.extra ->> 'coupon_code'
    and c.stripe_coupon_id is null
    and record_checkout.extra ->> 'stripe_coupon_id' is not null
$$;

comment on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) is
  E'Remembers a checkout created at the provider (Stripe session or Razorpay order): whose it is, the plan and the amount it must be paid with; extra.customer_id links the provider customer used, extra.stripe_coupon_id the Stripe coupon made for extra.coupon_code, extra.expired_sessions lists the user''s older Checkout Sessions expired at Stripe for this one.';

revoke all on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0831_function_apply_stripe_subscription.sql
create or replace function tollgate_private.apply_stripe_subscription(
  subscription jsonb,
  event_at timestamptz,
  event_id text,
  user_hint uuid
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stripe_id text := apply_stripe_subscription.subscription ->> 'id';
  v_customer text := tollgate_private.provider_id(apply_stripe_subscription.subscription -> 'customer');
  v_item jsonb := apply_stripe_subscription.subscription #> '{items,data,0}';
  v_user_id uuid;
  v_plan_id text;
  v_price text;
  v_status text := apply_stripe_subscription.subscription ->> 'status';
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_cancel_at timestamptz;
  v_local_id uuid;
  -- The id a new subscription gets, recorded in its provider_refs row when the watermark creates it.
  v_new_id uuid := gen_random_uuid();
  v_other record;
  v_reason text;
begin
  if v_stripe_id is null or v_stripe_id !~ '^sub_' or v_status is null then
    raise exception 'Not a Stripe subscription object' using errcode = 'BADEV';
  end if;

  -- In this order: hint, metadata.user_id, customer, the subscription's ref. Lookups are
  -- statements of their own: inside one coalesce Postgres planned it again on every call.
  v_user_id := coalesce(
    apply_stripe_subscription.user_hint,
    tollgate_private.uuid_or_null(apply_stripe_subscription.subscription #>> '{metadata,user_id}'));
  if v_user_id is null then
    select c.user_id into v_user_id
    from tollgate_private.customers c
    where c.provider = 'stripe' and c.provider_customer_id = v_customer;
  end if;
  if v_user_id is null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for subscription %s', v_stripe_id));
  end if;

  v_price := tollgate_private.provider_id(v_item -> 'price');
  select p.id into v_plan_id from tollgate.plans p where p.stripe_price_id = v_price;
  if v_plan_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no plan has Stripe price %s', coalesce(v_price, '(none)')));
  end if;

  -- Since API 2025-03-31.basil the period lives on each item; older versions put it on the subscription.
  v_period_start := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_start'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_start'));
  v_period_end := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_end'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_end'));
  if v_period_end <= v_period_start then
    v_period_end := null;
  end if;
  v_cancel_at := tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'cancel_at');

  -- One writer per user at a time: two subscriptions of one user applied at once cannot both go live.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(v_user_id, 'stripe', v_customer);
  if not tollgate_private.advance_watermark('stripe', 'subscription', v_stripe_id, apply_stripe_subscription.event_at,
      apply_stripe_subscription.event_id, v_new_id, v_user_id) then
    return jsonb_build_object('outcome', 'stale');
  end if;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;

  -- SECOND SUBSCRIPTION. At most one subscription per user is live here and billed at Stripe.
  -- When a second one goes live (two checkouts paid, or paid at once), the one created later at
  -- the provider wins (the user's latest purchase), whatever order the events arrive in. The
  -- other is canceled here with the audit reason 'superseded by ...' and, when Stripe bills it,
  -- a provider_actions row (written in this transaction, so it exists exactly when the local
  -- change does) has the functions cancel it at Stripe, prorated, right after the commit, retried
  -- until done with the action's id as Idempotency-Key. Until then its own events still say
  -- active: they meet the newer one live here, so this block keeps it canceled (v_status) and
  -- nothing flips back.
  if v_status in ('trialing', 'active', 'past_due', 'unpaid', 'paused') then
    for v_other in
      select s.id, s.provider, s.created_at,
        (select r.provider_id from tollgate_private.provider_refs r
         where r.provider = 'stripe' and r.object_type = 'subscription' and r.local_id = s.id
         limit 1) as stripe_id
      from tollgate.subscriptions s
      where s.user_id = v_user_id
        and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')
        and s.id is distinct from v_local_id
      for update of s
    loop
      v_reason := nullif(current_setting('tollgate.audit_reason', true), '');
      if v_other.provider = 'stripe'
        and v_other.created_at
          >= coalesce(tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'created'), now()) then
        -- The live one is newer (or of the same second: the one live stays live, so nothing flips
        -- on a tie): this one is written canceled (the reason stays set for that write).
        v_status := 'canceled';
        perform set_config('tollgate.audit_reason', concat_ws(' ', v_reason, 'superseded by ' || v_other.stripe_id), true);
        insert into tollgate_private.provider_actions (provider, action, provider_object_id, user_id, reason)
        values ('stripe', 'cancel_subscription', v_stripe_id, v_user_id, 'superseded by ' || v_other.stripe_id)
        on conflict on constraint provider_actions_once do nothing;
      else
        perform set_config('tollgate.audit_reason', concat_ws(' ', v_reason, 'superseded by ' || v_stripe_id), true);
        update tollgate.subscriptions s
        set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_stripe_subscription.event_at),
            ended_at = apply_stripe_subscription.event_at
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
      v_new_id, v_user_id, v_plan_id, v_status, 'stripe', v_period_start, v_period_end,
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'),
      coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
        or (v_cancel_at is not null and v_cancel_at <= v_period_end),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'),
      coalesce(tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'created'), now()));
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
        current_period_start = v_period_start,
        current_period_end = v_period_end,
        billing_cycle_anchor = coalesce(
          tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'), s.billing_cycle_anchor),
        cancel_at_period_end = coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
          or (v_cancel_at is not null and v_cancel_at <= v_period_end),
        canceled_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
        ended_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
        trial_end = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end')
    where s.id = v_local_id
      -- An identical snapshot (a verify after its webhook) writes nothing.
      and (s.plan_id, s.status, s.current_period_start, s.current_period_end, s.cancel_at_period_end,
           s.canceled_at, s.ended_at, s.trial_end)
        is distinct from
          (v_plan_id, v_status, v_period_start, v_period_end,
           coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
             or (v_cancel_at is not null and v_cancel_at <= v_period_end),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'));
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) is
  E'Applies a Stripe subscription snapshot (any API version: periods from its first item, or from the subscription before basil) unless a newer event about it was applied already. Finds the user by hint, metadata.user_id or customer, the plan by the first item''s price. Outcome applied, stale or unlinked.';

revoke all on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) from public, anon, authenticated, service_role;

-- ==== sql/0833_function_apply_stripe_checkout.sql
create or replace function tollgate_private.apply_stripe_checkout(
  session jsonb,
  subscription jsonb,
  event_at timestamptz,
  event_id text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session_id text := apply_stripe_checkout.session ->> 'id';
  v_user_id uuid;
  v_checkout_id text := apply_stripe_checkout.session #>> '{metadata,tollgate_checkout_id}';
  v_result jsonb;
begin
  if v_session_id is null or v_session_id !~ '^cs_' then
    raise exception 'Not a Stripe Checkout Session object' using errcode = 'BADEV';
  end if;
  if apply_stripe_checkout.session ->> 'mode' is distinct from 'subscription' then
    return jsonb_build_object('outcome', 'ignored', 'error', 'not a subscription checkout');
  end if;

  -- In this order: client_reference_id, metadata.user_id, the session's ref. The lookup is a
  -- statement of its own: inside the coalesce Postgres planned it again on every call.
  v_user_id := coalesce(
    tollgate_private.uuid_or_null(apply_stripe_checkout.session ->> 'client_reference_id'),
    tollgate_private.uuid_or_null(apply_stripe_checkout.session #>> '{metadata,user_id}'));
  if v_user_id is null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for checkout %s', v_session_id));
  end if;

  -- A completed session can no longer be expired: a new checkout of the user leaves it alone.
  update tollgate_private.provider_refs r
  set details = r.details || jsonb_build_object('state', apply_stripe_checkout.session ->> 'status')
  where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id
    and apply_stripe_checkout.session ->> 'status' is not null
    and r.details ->> 'state' is distinct from apply_stripe_checkout.session ->> 'status';

  if apply_stripe_checkout.session ->> 'payment_status' not in ('paid', 'no_payment_required') then
    -- Paid later (async methods): checkout.session.async_payment_succeeded applies it.
    return jsonb_build_object('outcome', 'ignored', 'error', 'not paid yet');
  end if;

  -- The user's lock before the first write, as apply_stripe_subscription takes it before linking
  -- the customer: a checkout and its subscription's event applied at once then queue on the lock,
  -- instead of each waiting on what the other wrote (a deadlock, one side retried minutes later).
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(
    v_user_id, 'stripe', tollgate_private.provider_id(apply_stripe_checkout.session -> 'customer'));
  if v_checkout_id is not null then
    perform tollgate_private.settle_coupon(v_checkout_id, true);
  end if;

  if apply_stripe_checkout.subscription is null then
    -- The subscription's own events will bring it.
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  if tollgate_private.provider_id(apply_stripe_checkout.session -> 'subscription') is distinct from apply_stripe_checkout.subscription ->> 'id' then
    raise exception 'The subscription given is not the checkout''s' using errcode = 'BADEV';
  end if;
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_checkout.subscription, apply_stripe_checkout.event_at, apply_stripe_checkout.event_id, v_user_id);
  -- A stale snapshot means a newer one is applied already: the checkout itself is done.
  if v_result ->> 'outcome' = 'stale' then
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  return v_result;
end;
$$;

comment on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) is
  E'Applies a completed, paid subscription-mode Checkout Session: links the customer to the user (client_reference_id), redeems the coupon and applies the subscription snapshot fetched with it. Shared by the webhook and verify-payment.';

revoke all on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0840_function_apply_razorpay_payment.sql
create or replace function tollgate_private.apply_razorpay_payment(
  user_id uuid,
  order_id text,
  payment_id text,
  amount bigint,
  source text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_order tollgate_private.provider_refs;
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_step interval;
  v_subscription_id uuid;
  v_invoice_id uuid;
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_amount bigint;
begin
  -- GUARD: the order row is locked until commit; an order pays for one interval, once.
  select r.* into v_order
  from tollgate_private.provider_refs r
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id
  for update;
  if v_order.provider_id is null then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'Unknown order %', apply_razorpay_payment.order_id using errcode = 'NOORD';
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('order %s was not created by Tollgate', apply_razorpay_payment.order_id));
  end if;
  if apply_razorpay_payment.user_id is not null and v_order.user_id is distinct from apply_razorpay_payment.user_id then
    raise exception 'This order is not yours' using errcode = 'NOTYR';
  end if;
  if v_order.local_id is not null then
    return jsonb_build_object('outcome', 'duplicate', 'subscription_id', v_order.local_id, 'user_id', v_order.user_id);
  end if;
  if v_order.details ->> 'state' = 'held' then
    return jsonb_build_object('outcome', 'duplicate', 'held', true, 'user_id', v_order.user_id,
      'subscription_id', (v_order.details ->> 'live_subscription_id')::uuid,
      'invoice_id', (v_order.details ->> 'invoice_id')::uuid);
  end if;

  v_amount := (v_order.details ->> 'amount')::bigint;
  if apply_razorpay_payment.amount is not null and apply_razorpay_payment.amount <> v_amount then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'The payment does not match the order amount' using errcode = 'PAYMM',
        detail = format('paid %s, order %s', apply_razorpay_payment.amount, v_amount);
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('paid %s, order %s', apply_razorpay_payment.amount, v_amount));
  end if;

  select p.* into v_plan from tollgate.plans p where p.id = v_order.details ->> 'plan_id';
  v_step := case v_plan."interval" when 'year' then interval '1 year' else interval '1 month' end;

  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_order.user_id::text, 0));
  perform set_config('tollgate.audit_reason', 'razorpay:' || apply_razorpay_payment.source, true);

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = v_order.user_id and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_live.provider = 'stripe'
    or (v_live.provider = 'razorpay' and v_live.plan_id <> v_plan.id and v_live.status in ('trialing', 'active')
      and v_live.current_period_end > apply_razorpay_payment.as_of) then
    -- HELD. A paid period is never thrown away, nor is a plan Stripe bills replaced by a one-off
    -- payment: an order for another plan captured while one runs (an older order paid late, or
    -- a race with the checkout's refusal) changes no subscription. The money is recorded as a
    -- paid invoice of no period, the order is marked held and audited for an operator (refund
    -- it, or grant the plan when the paid period ends); the same order applied again is a no-op.
    insert into tollgate.invoices (
      user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid, paid_at)
    values (
      v_order.user_id, null, 'razorpay', apply_razorpay_payment.order_id, 'paid',
      coalesce(v_order.details ->> 'currency', v_plan.currency), v_amount, v_amount, apply_razorpay_payment.as_of)
    returning id into v_invoice_id;
    update tollgate_private.provider_refs r
    set details = r.details || jsonb_build_object(
          'state', 'held', 'invoice_id', v_invoice_id, 'live_subscription_id', v_live.id,
          'held_because', format('%s %s paid until %s', v_live.provider, v_live.plan_id, v_live.current_period_end)),
        last_event_at = apply_razorpay_payment.as_of, last_event_id = apply_razorpay_payment.source
    where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id;
    insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
    values ('razorpay', 'payment', apply_razorpay_payment.payment_id, v_invoice_id, v_order.user_id, apply_razorpay_payment.order_id)
    on conflict do nothing;
    insert into tollgate_private.audit_log (
      table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
    values (
      'invoices', v_invoice_id, v_order.user_id, 'insert', null,
      jsonb_build_object('order_id', apply_razorpay_payment.order_id, 'plan_id', v_plan.id, 'amount_paid', v_amount,
        'state', 'held', 'live_subscription_id', v_live.id, 'live_plan_id', v_live.plan_id),
      auth.uid(), coalesce(nullif(auth.role(), ''), session_user::text),
      format('razorpay:%s held: order %s for %s paid while %s %s runs until %s; refund it or grant it',
        apply_razorpay_payment.source, apply_razorpay_payment.order_id, v_plan.id, v_live.provider, v_live.plan_id,
        v_live.current_period_end));
    if v_order.details ->> 'checkout_id' is not null then
      perform tollgate_private.settle_coupon(v_order.details ->> 'checkout_id', true);
    end if;
    return jsonb_build_object('outcome', 'held', 'subscription_id', v_live.id, 'user_id', v_order.user_id,
      'invoice_id', v_invoice_id,
      'error', format('held: %s %s runs until %s', v_live.provider, v_live.plan_id, v_live.current_period_end));
  end if;

  if v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then
    if v_live.current_period_end > apply_razorpay_payment.as_of then
      -- On time: one more interval from the paid end; quota months keep their anchor (whole months).
      v_period_start := v_live.current_period_end;
      v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
      update tollgate.subscriptions s
      set status = 'active', current_period_start = v_period_start, current_period_end = v_period_end,
          cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    else
      -- Late (in grace or after): a new paid period starts at the payment, and quota months with it.
      v_period_start := apply_razorpay_payment.as_of;
      -- In UTC wall time, like usage periods: the session's time zone must not move the end.
      v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
      update tollgate.subscriptions s
      set status = 'active', current_period_start = v_period_start, current_period_end = v_period_end,
          billing_cycle_anchor = v_period_start, cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    end if;
    v_subscription_id := v_live.id;
  else
    -- Nothing paid runs (none live, or an internal grant, or a Razorpay period that has run out).
    if v_live.id is not null then
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_razorpay_payment.as_of),
          ended_at = apply_razorpay_payment.as_of
      where s.id = v_live.id;
    end if;
    v_period_start := apply_razorpay_payment.as_of;
    -- In UTC wall time, like usage periods: the session's time zone must not move the end.
    v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor)
    values (v_order.user_id, v_plan.id, 'active', 'razorpay', v_period_start, v_period_end, v_period_start)
    returning id into v_subscription_id;
  end if;

  insert into tollgate.invoices (
    user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
    period_start, period_end, paid_at)
  values (
    v_order.user_id, v_subscription_id, 'razorpay', apply_razorpay_payment.order_id, 'paid',
    coalesce(v_order.details ->> 'currency', v_plan.currency), v_amount, v_amount, v_period_start, v_period_end,
    apply_razorpay_payment.as_of)
  returning id into v_invoice_id;

  update tollgate_private.provider_refs r
  set local_id = v_subscription_id, last_event_at = apply_razorpay_payment.as_of,
      last_event_id = apply_razorpay_payment.source
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id;
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
  values ('razorpay', 'payment', apply_razorpay_payment.payment_id, v_invoice_id, v_order.user_id, apply_razorpay_payment.order_id)
  on conflict do nothing;
  if v_order.details ->> 'checkout_id' is not null then
    perform tollgate_private.settle_coupon(v_order.details ->> 'checkout_id', true);
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_subscription_id, 'user_id', v_order.user_id,
    'invoice_id', v_invoice_id);
end;
$$;

comment on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) is
  E'Applies a captured Razorpay payment of an order Tollgate created: activates the order''s plan for one interval, or renews the same plan (on time: from the end of the paid period; late: a new paid period and quota month from the payment), records a paid invoice, redeems the coupon. A payment for another plan while a paid Razorpay period runs, or while a Stripe subscription is live, changes no subscription: outcome held (paid invoice without a period, order marked held, audited for an operator). Once per order, whichever of verify-payment and webhook comes first. user_id (verify-payment) must own the order (NOTYR); amount, when given, must match it.';

revoke all on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0841_function_apply_razorpay_event.sql
create or replace function tollgate_private.apply_razorpay_event(event_id text, event jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_type text := apply_razorpay_event.event ->> 'event';
  v_at timestamptz := coalesce(tollgate_private.unix_time(apply_razorpay_event.event -> 'created_at'), now());
  v_payment jsonb := apply_razorpay_event.event #> '{payload,payment,entity}';
  v_order jsonb := apply_razorpay_event.event #> '{payload,order,entity}';
  v_processed timestamptz;
  v_result jsonb;
begin
  if apply_razorpay_event.event_id is null or length(apply_razorpay_event.event_id) not between 1 and 255
    or v_type is null or jsonb_typeof(apply_razorpay_event.event -> 'payload') is distinct from 'object' then
    raise exception 'Not a Razorpay event' using errcode = 'BADEV', hint = 'Expected event, payload and an x-razorpay-event-id.';
  end if;

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, event_created_at, payload)
  values ('razorpay', apply_razorpay_event.event_id, v_type, v_at, apply_razorpay_event.event)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        -- A processed event keeps the payload it was applied from (and the row is not rewritten
        -- with its TOAST chunks on every duplicate).
        payload = case when tollgate_private.webhook_events.processed_at is null then excluded.payload
          else tollgate_private.webhook_events.payload end
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', apply_razorpay_event.event_id, 'type', v_type);
  end if;

  case v_type
    when 'payment.captured' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_payment ->> 'order_id', v_payment ->> 'id', (v_payment ->> 'amount')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'order.paid' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_order ->> 'id', v_payment ->> 'id', (v_order ->> 'amount_paid')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'payment.failed' then
      -- The order stays open: the user may pay it with another attempt.
      v_result := jsonb_build_object('outcome', 'ignored', 'error', v_payment ->> 'error_description');
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;
  if v_result ->> 'outcome' = 'duplicate' then
    -- The order was applied by verify-payment or by the other event of the same payment.
    v_result := v_result || jsonb_build_object('outcome', 'applied');
  end if;

  -- A held payment was applied (its invoice recorded); the ledger's error says it is held.
  update tollgate_private.webhook_events w
  set processed_at = now(),
      outcome = case when v_result ->> 'outcome' = 'held' then 'applied' else v_result ->> 'outcome' end,
      error = v_result ->> 'error'
  where w.provider = 'razorpay' and w.event_id = apply_razorpay_event.event_id;

  return v_result || jsonb_build_object('event_id', apply_razorpay_event.event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_razorpay_event(text, jsonb) is
  E'Records a verified Razorpay webhook (deduplicated by x-razorpay-event-id) and applies payment.captured and order.paid once per order (a held payment is recorded as applied, its error saying held); payment.failed and other types are recorded and acknowledged.';

revoke all on function tollgate_private.apply_razorpay_event(text, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0850_function_due_provider_actions.sql
create function tollgate_private.due_provider_actions(max_count integer, as_of timestamptz)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  -- No lock is taken: two functions running the same action at once is harmless, the provider
  -- call carries the action's id as its Idempotency-Key.
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', a.id, 'provider', a.provider, 'action', a.action,
      'provider_object_id', a.provider_object_id, 'attempts', a.attempts)
    order by a.next_attempt_at), '[]'::jsonb)
  from (
    select pa.* from tollgate_private.provider_actions pa
    where pa.state = 'pending' and pa.next_attempt_at <= due_provider_actions.as_of
    order by pa.next_attempt_at
    limit greatest(due_provider_actions.max_count, 0)
  ) a
$$;

comment on function tollgate_private.due_provider_actions(integer, timestamptz) is
  E'The pending provider actions due at as_of (at most max_count, oldest first), as a JSON array of {id, provider, action, provider_object_id, attempts}: what a function must call the provider for.';

revoke all on function tollgate_private.due_provider_actions(integer, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0851_function_finish_provider_action.sql
create function tollgate_private.finish_provider_action(
  id uuid,
  succeeded boolean,
  error text,
  permanent boolean,
  as_of timestamptz
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  -- done is final: a failed retry that raced a success never undoes it.
  update tollgate_private.provider_actions a
  set state = case
        when finish_provider_action.succeeded then 'done'
        when finish_provider_action.permanent then 'failed'
        else 'pending' end,
      done_at = case when finish_provider_action.succeeded then finish_provider_action.as_of end,
      attempts = a.attempts + case when finish_provider_action.succeeded then 0 else 1 end,
      last_error = case when finish_provider_action.succeeded then a.last_error else left(finish_provider_action.error, 1000) end,
      -- Backs off 1, 2, 4 ... minutes, at most 6 hours.
      next_attempt_at = case when finish_provider_action.succeeded then a.next_attempt_at
        else finish_provider_action.as_of + least(interval '1 minute' * power(2, least(a.attempts, 10)), interval '6 hours') end
  where a.id = finish_provider_action.id and a.state = 'pending'
$$;

comment on function tollgate_private.finish_provider_action(uuid, boolean, text, boolean, timestamptz) is
  E'Records the outcome of a provider action''s call: done; failed for good (permanent: an operator must act); or still pending, retried after a back-off. A finished action is never changed again.';

revoke all on function tollgate_private.finish_provider_action(uuid, boolean, text, boolean, timestamptz) from public, anon, authenticated, service_role;
