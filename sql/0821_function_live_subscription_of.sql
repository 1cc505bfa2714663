create function tollgate_private.live_subscription_of(user_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select to_jsonb(s) || jsonb_build_object(
    'provider_subscription_id', (
      select r.provider_id from tollgate_private.provider_refs r
      where r.object_type = 'subscription' and r.local_id = s.id
      limit 1),
    'provider_customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = s.user_id and c.provider = s.provider)
  )
  from tollgate.subscriptions s
  where s.user_id = live_subscription_of.user_id
    and s.status = any (tollgate_private.live_statuses())
$$;

comment on function tollgate_private.live_subscription_of(uuid) is
  E'The user''s live subscription as JSON with its provider subscription and customer ids; null when they have none.';

revoke all on function tollgate_private.live_subscription_of(uuid) from public, anon, authenticated, service_role;
