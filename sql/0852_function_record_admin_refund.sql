create function tollgate_private.record_admin_refund(request_id uuid, refund jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_request tollgate_private.refund_requests;
  v_refund_id text := record_admin_refund.refund ->> 'id';
  v_status text := record_admin_refund.refund ->> 'status';
  v_amount bigint := (record_admin_refund.refund ->> 'amount')::bigint;
  v_result jsonb;
begin
  select q.* into v_request from tollgate_private.refund_requests q
  where q.id = record_admin_refund.request_id for update;
  if v_request.id is null then
    perform tollgate_private.raise_error('NOTFD', 'No such refund request');
  end if;
  if v_refund_id is null or v_status is null or v_amount is null then
    raise exception 'The provider answered no refund' using errcode = 'PROVR';
  end if;
  update tollgate_private.refund_requests q set state = 'sent', refund_id = v_refund_id
  where q.id = v_request.id and q.refund_id is distinct from v_refund_id;

  -- The same row the webhook writes (keyed by the refund id), so the two count it once. Dated at
  -- the refund's creation with an id sorting before the providers' event ids: any event about
  -- the refund is newer.
  v_result := tollgate_private.record_refund(v_request.provider, v_refund_id, v_request.payment_id, v_amount,
    coalesce(record_admin_refund.refund ->> 'currency', v_request.currency), v_status,
    coalesce(tollgate_private.unix_time(coalesce(record_admin_refund.refund -> 'created',
      record_admin_refund.refund -> 'created_at')), now()),
    'api:' || v_request.id::text, 'admin-refund:' || v_request.id::text || ' ' || v_request.reason);
  return jsonb_build_object(
    'refund', jsonb_build_object('id', v_refund_id, 'request_id', v_request.id, 'provider', v_request.provider,
      'payment_id', v_request.payment_id, 'status', v_status, 'amount', v_amount,
      'currency', v_request.currency, 'invoice_id', v_request.invoice_id, 'purchase_id', v_request.purchase_id,
      'reason', v_request.reason),
    'amount_refunded', v_result -> 'amount_refunded',
    'status', v_result -> 'status');
end;
$$;

comment on function tollgate_private.record_admin_refund(uuid, jsonb) is
  E'Second step of an admin refund: records the refund the provider answered (id, amount, currency, status, created) on its request and as the refund''s provider_refs row (record_refund), the row the webhook confirms later without counting it again; answers {refund, amount_refunded, status}. Called again with the same refund it changes nothing.';

revoke all on function tollgate_private.record_admin_refund(uuid, jsonb) from public, anon, authenticated, service_role;
