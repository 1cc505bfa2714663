create function tollgate_private.tg_users__cancel_provider_subscriptions()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- However the user is deleted (Studio, the Auth admin API, delete-account), their live Stripe
  -- subscriptions are cancelled at Stripe: queued in the outbox in the deleting transaction, run
  -- after it commits (never a network call in a trigger). The outbox row outlives the user
  -- (user_id becomes null) and is retried until Stripe has it.
  insert into tollgate_private.provider_actions (provider, action, provider_object_id, user_id, reason)
  select 'stripe', 'cancel_subscription', r.provider_id, old.id, 'user deleted'
  from tollgate.subscriptions s
  join tollgate_private.provider_refs r
    on r.provider = 'stripe' and r.object_type = 'subscription' and r.local_id = s.id
  where s.user_id = old.id and s.provider = 'stripe'
    and s.status = any (tollgate_private.live_statuses() || array['incomplete'])
  on conflict on constraint provider_actions_once do nothing;
  -- Then nothing personal of the user stays in Tollgate (the same as delete-account does); the
  -- outbox row queued above stays, unowned.
  perform tollgate_private.forget_user(old.id, 'auth.users');
  return old;
end;
$$;

comment on function tollgate_private.tg_users__cancel_provider_subscriptions() is
  E'Trigger on auth.users (before delete): queues the cancellation at Stripe of the user''s live (or incomplete) Stripe subscriptions in tollgate_private.provider_actions, so a user deleted any way is never billed again (Razorpay bills nothing recurring); then forget_user, so no personal data of theirs stays in Tollgate (invoices and purchases are kept without it).';

revoke all on function tollgate_private.tg_users__cancel_provider_subscriptions() from public, anon, authenticated, service_role;

create trigger tollgate_cancel_provider_subscriptions
  before delete on auth.users
  for each row execute function tollgate_private.tg_users__cancel_provider_subscriptions();
