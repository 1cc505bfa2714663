create function tollgate_private.fail_admin_refund(request_id uuid, error text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_request tollgate_private.refund_requests;
begin
  -- Only a request no provider refund was recorded for: a refusal answered after a success
  -- (a late retry) changes nothing.
  update tollgate_private.refund_requests q
  set state = 'failed', error = left(fail_admin_refund.error, 1000)
  where q.id = fail_admin_refund.request_id and q.state = 'requested'
  returning q.* into v_request;
  if v_request.id is null then
    return;
  end if;
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  select case when v_request.purchase_id is not null then 'purchases' else 'invoices' end,
    coalesce(v_request.purchase_id, v_request.invoice_id),
    coalesce((select p.user_id from tollgate.purchases p where p.id = v_request.purchase_id),
      (select i.user_id from tollgate.invoices i where i.id = v_request.invoice_id)),
    'update', jsonb_build_object('refund_request_id', v_request.id, 'state', 'requested'),
    jsonb_build_object('refund_request_id', v_request.id, 'state', 'failed', 'error', v_request.error),
    v_request.actor_user_id, 'admin', 'admin-refund:' || v_request.id::text || ' refused by ' || v_request.provider;
end;
$$;

comment on function tollgate_private.fail_admin_refund(uuid, text) is
  E'Marks an admin refund request the provider refused (a 4xx answer: nothing was refunded) as failed with the provider''s error, audited, so its amount is no longer held. A request already sent is left as it is.';

revoke all on function tollgate_private.fail_admin_refund(uuid, text) from public, anon, authenticated, service_role;
