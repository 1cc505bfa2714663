create function tollgate_private.revenue_metrics(as_of timestamptz)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_then timestamptz := revenue_metrics.as_of - interval '30 days';
  v_result jsonb;
begin
  with
  now_states as (select * from tollgate_private.subscription_states_at(revenue_metrics.as_of)),
  paying as (
    select * from now_states n
    where n.status in ('active', 'past_due') and n.provider in ('stripe', 'razorpay')
  ),
  paying_then as (
    select * from tollgate_private.subscription_states_at(v_then) t
    where t.status in ('active', 'past_due') and t.provider in ('stripe', 'razorpay')
  ),
  mrr as (
    select p.currency, round(sum(p.monthly_amount))::bigint as amount, count(distinct p.user_id) as users
    from paying p group by p.currency
  ),
  past_due_mrr as (
    select p.currency, round(sum(p.monthly_amount))::bigint as amount
    from paying p where p.status = 'past_due' group by p.currency
  ),
  by_plan as (
    select p.plan_id, p.currency, count(*) as subscriptions, round(sum(p.monthly_amount))::bigint as mrr
    from paying p group by p.plan_id, p.currency
  ),
  new_users as (
    select distinct p.user_id from paying p
    where not exists (select from paying_then t where t.user_id = p.user_id)
  ),
  churned_users as (
    select distinct t.user_id from paying_then t
    where not exists (select from paying p where p.user_id = t.user_id)
  ),
  collected as (
    select r.currency, sum(r.net)::bigint as amount
    from (
      select i.currency, i.amount_paid - i.amount_refunded as net
      from tollgate.invoices i
      where i.status = 'paid' and i.paid_at > v_then and i.paid_at <= revenue_metrics.as_of
      union all
      select pu.currency, pu.amount_paid - pu.amount_refunded
      from tollgate.purchases pu
      where pu.paid_at > v_then and pu.paid_at <= revenue_metrics.as_of
    ) r
    group by r.currency
  )
  select jsonb_build_object(
    'as_of', revenue_metrics.as_of,
    'mrr', coalesce((select jsonb_object_agg(m.currency, m.amount) from mrr m), '{}'::jsonb),
    'arr', coalesce((select jsonb_object_agg(m.currency, m.amount * 12) from mrr m), '{}'::jsonb),
    'active_subscriptions', (select count(*) from paying),
    'by_plan', coalesce((
      select jsonb_agg(jsonb_build_object('plan_id', b.plan_id, 'currency', b.currency,
        'subscriptions', b.subscriptions, 'mrr', b.mrr) order by b.plan_id)
      from by_plan b), '[]'::jsonb),
    'trialing', (select count(*) from now_states n where n.status = 'trialing'),
    'past_due', jsonb_build_object(
      'subscriptions', (select count(*) from paying p where p.status = 'past_due'),
      'mrr', coalesce((select jsonb_object_agg(d.currency, d.amount) from past_due_mrr d), '{}'::jsonb)),
    'new_30d', (select count(*) from new_users),
    'churned_30d', (select count(*) from churned_users),
    'churn_rate_30d', (
      select round((select count(*) from churned_users)::numeric / nullif(count(distinct t.user_id), 0), 4)
      from paying_then t),
    'arpu', coalesce((
      select jsonb_object_agg(m.currency, round(m.amount::numeric / m.users)::bigint) from mrr m), '{}'::jsonb),
    'revenue_30d', coalesce((select jsonb_object_agg(c.currency, c.amount) from collected c), '{}'::jsonb)
  ) into v_result;
  return v_result;
end;
$$;

comment on function tollgate_private.revenue_metrics(timestamptz) is
  E'The figures of tollgate.admin_metrics at as_of (tests pass past moments; admin_metrics passes now()).';

revoke all on function tollgate_private.revenue_metrics(timestamptz) from public, anon, authenticated, service_role;
