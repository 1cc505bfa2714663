create function tollgate_private.audit_subscription_request(subscription_id uuid, before jsonb, note text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_after tollgate.subscriptions;
begin
  select s.* into v_after from tollgate.subscriptions s where s.id = audit_subscription_request.subscription_id;
  perform tollgate_private.audit('subscriptions', v_after.id, v_after.user_id, 'update',
    jsonb_build_object('plan_id', audit_subscription_request.before ->> 'plan_id', 'status', audit_subscription_request.before ->> 'status',
      'cancel_at_period_end', (audit_subscription_request.before ->> 'cancel_at_period_end')::boolean),
    jsonb_build_object('plan_id', v_after.plan_id, 'status', v_after.status,
      'cancel_at_period_end', v_after.cancel_at_period_end),
    audit_subscription_request.note);
end;
$$;

comment on function tollgate_private.audit_subscription_request(uuid, jsonb, text) is
  E'Writes the audit row of a request on a subscription that carries a reason (a user''s cancellation, an admin''s cancel): the plan, status and cancel_at_period_end before and after, and the reason, even when only cancel_at_period_end changed (which the audit trigger does not record).';

revoke all on function tollgate_private.audit_subscription_request(uuid, jsonb, text) from public, anon, authenticated, service_role;
