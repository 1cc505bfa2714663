create function tollgate_private.delete_account(
  user_id uuid,
  canceled_subscriptions text[],
  expired_checkouts text[] default '{}'
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_queued bigint;
begin
  if delete_account.user_id is null then
    perform tollgate_private.raise_error('BADRQ', 'delete_account needs a user id');
  end if;
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || delete_account.user_id::text, 0));
  -- A Stripe subscription the route did not cancel (one applied after it looked) is cancelled
  -- through the outbox all the same: it outlives the user, and never bills them again.
  insert into tollgate_private.provider_actions (provider, action, provider_object_id, user_id, reason)
  select 'stripe', 'cancel_subscription', r.provider_id, delete_account.user_id, 'account deleted'
  from tollgate.subscriptions s
  join tollgate_private.provider_refs r
    on r.provider = 'stripe' and r.object_type = 'subscription' and r.local_id = s.id
  where s.user_id = delete_account.user_id and s.provider = 'stripe'
    and s.status = any (tollgate_private.live_statuses() || array['incomplete'])
    and r.provider_id <> all (coalesce(delete_account.canceled_subscriptions, '{}'))
  on conflict on constraint provider_actions_once do nothing;
  get diagnostics v_queued = row_count;
  -- Checkouts the route expired at the provider (it answered: not paid, never will be) give their
  -- coupon use back; forget_user keeps every other use counted, since a checkout may have been paid
  -- in flight.
  -- The use is held under Tollgate's checkout id, which the session's ref records.
  perform tollgate_private.settle_coupon(r.details ->> 'checkout_id', false)
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'checkout_session'
    and r.provider_id = any (coalesce(delete_account.expired_checkouts, '{}'))
    and r.user_id = delete_account.user_id and r.details ->> 'checkout_id' is not null;
  return tollgate_private.forget_user(delete_account.user_id, 'delete-account')
    || jsonb_build_object('cancellations_queued', v_queued);
end;
$$;

comment on function tollgate_private.delete_account(uuid, text[], text[]) is
  E'What POST /billing/delete-account runs after cancelling the user''s live Stripe subscriptions at Stripe (canceled_subscriptions, their sub_... ids): queues in the provider outbox the cancellation of any other live or incomplete Stripe subscription of the user, gives back the coupon uses of the user''s checkouts it expired at Stripe (expired_checkouts: cs_... ids, closed unpaid), then forget_user. One transaction; answers forget_user''s counts and cancellations_queued. A second call answers nothing_left.';

revoke all on function tollgate_private.delete_account(uuid, text[], text[]) from public, anon, authenticated, service_role;
