create function tollgate_private.entitlement(
  user_id uuid,
  as_of timestamptz,
  out plan_id text,
  out subscription_id uuid,
  out anchor timestamptz,
  out valid_until timestamptz,
  out paid_until timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_sub tollgate.subscriptions;
  v_grace interval;
begin
  plan_id := tollgate_private.free_plan_id();

  select s.* into v_sub
  from tollgate.subscriptions s
  where s.user_id = entitlement.user_id
    and s.status = any (tollgate_private.live_statuses());

  if v_sub.id is null or v_sub.status <> all (tollgate_private.plan_statuses()) then
    return;
  end if;

  select st.past_due_grace into v_grace from tollgate_private.settings st;
  v_grace := coalesce(v_grace, interval '3 days');

  -- What is paid for: Stripe renews by itself and tells us (no end while it is not past_due); when
  -- a Stripe renewal fails, Stripe has already moved the period, so the unpaid period starts at
  -- current_period_start: the failure. One-off payments (razorpay, internal) pay up to
  -- current_period_end (a trial of theirs up to trial_end).
  if v_sub.provider = 'stripe' then
    if v_sub.status = 'past_due' then
      -- Stripe moves the period on every renewal, paid or not: after a second failed renewal
      -- current_period_start is that second failure. What was paid for ends where the service
      -- period of the last paid invoice does (a paid invoice recorded later moves the counters:
      -- tg_invoices__sync_usage).
      paid_until := least(v_sub.current_period_start,
        (select max(i.period_end) from tollgate.invoices i
         where i.subscription_id = v_sub.id and i.status = 'paid'));
    end if;
  elsif v_sub.status = 'trialing' then
    paid_until := least(v_sub.trial_end, v_sub.current_period_end);
  else
    paid_until := v_sub.current_period_end;
  end if;

  -- The plan is kept for the grace after what was paid for (counted from the failure), never past
  -- the end of a period set to cancel, nor past a one-off trial.
  if paid_until is not null then
    valid_until := (paid_until at time zone 'UTC' + v_grace) at time zone 'UTC';
  end if;
  if v_sub.cancel_at_period_end then
    valid_until := least(valid_until, v_sub.current_period_end);
  end if;
  if v_sub.status = 'trialing' and v_sub.provider <> 'stripe' then
    valid_until := least(valid_until, v_sub.trial_end);
  end if;

  if valid_until <= entitlement.as_of then
    valid_until := null;
    paid_until := null;
    return;
  end if;

  plan_id := v_sub.plan_id;
  subscription_id := v_sub.id;
  anchor := coalesce(v_sub.billing_cycle_anchor, v_sub.current_period_start, v_sub.created_at);
end;
$$;

comment on function tollgate_private.entitlement(uuid, timestamptz) is
  E'The plan a user is entitled to at as_of: their live subscription''s plan, else free; with the month anchor for usage periods, paid_until (the end of what is paid for: current_period_end of a one-off razorpay or internal payment, current_period_start of a past_due Stripe subscription, whose failed renewal already moved the period, or the end of its last paid invoice''s service period when earlier (a renewal failed more than once); null while Stripe renews by itself) and valid_until (paid_until plus the grace, or the end of a period set to cancel): the moment this must be checked again.';

revoke all on function tollgate_private.entitlement(uuid, timestamptz) from public, anon, authenticated, service_role;
