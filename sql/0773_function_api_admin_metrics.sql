create function tollgate.admin_metrics()
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.admin_metrics();
end;
$$;

comment on function tollgate.admin_metrics() is
  E'Revenue figures now, for admins and the service role (others 403 NOADM). Amounts in minor units, objects keyed by currency. A paying subscription is a Stripe or Razorpay subscription whose status is active or past_due (trialing, canceled, incomplete, internal grants are not paying); plan and status at any moment come from the subscription audit trail. mrr: the sum over paying subscriptions of their plan''s monthly price after a recurring coupon discount still running (repeating within its months, forever; a once coupon is a one-off, not recurring) (yearly plans / 12), rounded per currency; a subscription set to cancel at period end counts until it ends; past_due ones count and are also shown apart. arr: mrr x 12. active_subscriptions: paying subscriptions. by_plan: [{plan_id, currency, subscriptions, mrr}]. trialing: subscriptions trialing now. past_due: {subscriptions, mrr}. new_30d: users paying now who were not paying 30 days ago. churned_30d: users paying 30 days ago who are not paying now (upgrades, downgrades and provider moves are neither). churn_rate_30d: churned_30d / users paying 30 days ago (logo churn; null when there were none). arpu: mrr / paying users, per currency. revenue_30d: money collected in the last 30 days, net of refunds recorded so far: paid invoices (amount_paid - amount_refunded, by paid_at) plus purchases (the same).';

revoke all on function tollgate.admin_metrics() from public, anon, authenticated, service_role;

grant execute on function tollgate.admin_metrics() to authenticated, service_role;
