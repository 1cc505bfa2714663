create function tollgate_private.send_reminders(as_of timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_trials integer := 0;
  v_renewals integer := 0;
  v_sub record;
begin
  -- Trials ending within 3 days (Stripe's customer.subscription.trial_will_end writes the same
  -- key, so a user hears once whichever comes first).
  for v_sub in
    select s.id
    from tollgate.subscriptions s
    where s.status = 'trialing'
      and s.trial_end > send_reminders.as_of
      and s.trial_end <= send_reminders.as_of + interval '3 days'
  loop
    if tollgate_private.notify_trial_ending(v_sub.id) is not null then
      v_trials := v_trials + 1;
    end if;
  end loop;

  -- Renewals of yearly Stripe plans within 7 days (one-off Razorpay and internal periods do not
  -- renew by themselves; a cancelled subscription will not renew).
  for v_sub in
    select s.id, s.user_id, s.plan_id, s.current_period_end, p.name as plan_name, p.amount, p.currency,
      'renewal_upcoming:' || s.id::text || ':' || extract(epoch from s.current_period_end)::text as dedupe_key
    from tollgate.subscriptions s
    join tollgate.plans p on p.id = s.plan_id
    where s.status = 'active'
      and s.provider = 'stripe'
      and not s.cancel_at_period_end
      and p."interval" = 'year'
      and s.current_period_end > send_reminders.as_of
      and s.current_period_end <= send_reminders.as_of + interval '7 days'
  loop
    if tollgate_private.notify(v_sub.user_id, 'renewal_upcoming', v_sub.dedupe_key,
        format('Your %s plan renews on %s', v_sub.plan_name,
          pg_catalog.to_char(v_sub.current_period_end at time zone 'UTC', 'FMMonth FMDD, YYYY')),
        'It renews for another year with your saved payment method. Nothing to do if you want to keep it.',
        jsonb_build_object('plan_id', v_sub.plan_id, 'plan_name', v_sub.plan_name,
          'renews_at', v_sub.current_period_end, 'amount', v_sub.amount, 'currency', v_sub.currency,
          'subscription_id', v_sub.id)) is not null then
      v_renewals := v_renewals + 1;
    end if;
  end loop;

  return jsonb_build_object('trial_ending', v_trials, 'renewal_upcoming', v_renewals);
end;
$$;

comment on function tollgate_private.send_reminders(timestamptz) is
  E'Maintenance: notifies trial_ending 3 days before a trial ends and renewal_upcoming 7 days before a yearly Stripe plan renews, each once per trial or period (running it again adds nothing). Returns how many it wrote.';

revoke all on function tollgate_private.send_reminders(timestamptz) from public, anon, authenticated, service_role;
