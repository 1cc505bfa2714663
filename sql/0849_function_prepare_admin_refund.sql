create function tollgate_private.prepare_admin_refund(
  actor_user_id uuid,
  invoice_id uuid,
  purchase_id uuid,
  amount bigint,
  reason text,
  idempotency_key text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_table text := case when prepare_admin_refund.purchase_id is not null then 'purchases' else 'invoices' end;
  v_target_id uuid := coalesce(prepare_admin_refund.purchase_id, prepare_admin_refund.invoice_id);
  v_user_id uuid;
  v_paid bigint;
  v_refunded bigint;
  v_currency text;
  v_payment tollgate_private.provider_refs;
  v_hash text;
  v_key text;
  v_request tollgate_private.refund_requests;
  v_held bigint;
  v_left bigint;
  v_amount bigint;
  v_answer jsonb;
begin
  if (prepare_admin_refund.invoice_id is null) = (prepare_admin_refund.purchase_id is null) then
    perform tollgate_private.raise_error('BADRQ', 'Give exactly one of invoice_id and purchase_id');
  end if;
  if coalesce(length(btrim(prepare_admin_refund.reason)), 0) = 0 then
    perform tollgate_private.raise_error('BADRQ', 'A refund needs a reason', hint => 'It is audited.');
  end if;
  if prepare_admin_refund.amount is not null and prepare_admin_refund.amount <= 0 then
    perform tollgate_private.raise_error('INAMT', 'amount must be a whole number greater than 0');
  end if;

  -- GUARD: the refunded row is locked until commit: two admins refunding it at once are
  -- checked one after the other against what is left.
  if v_table = 'purchases' then
    select p.user_id, p.amount_paid, p.amount_refunded, p.currency into v_user_id, v_paid, v_refunded, v_currency
    from tollgate.purchases p where p.id = v_target_id for update;
  else
    select i.user_id, i.amount_paid, i.amount_refunded, i.currency into v_user_id, v_paid, v_refunded, v_currency
    from tollgate.invoices i where i.id = v_target_id for update;
  end if;
  if v_paid is null then
    perform tollgate_private.raise_error('NOTFD', format('No such %s', rtrim(v_table, 's')),
      detail => v_target_id::text);
  end if;

  -- A digest to compare requests by, not a secret: md5 is enough.
  v_hash := md5(concat_ws('|', v_table, v_target_id::text,
    coalesce(prepare_admin_refund.amount::text, 'rest'), btrim(prepare_admin_refund.reason),
    prepare_admin_refund.actor_user_id::text));
  -- REPLAY: the caller's Idempotency-Key names one request; without one, the same request of the
  -- same admin within 24 hours (the providers' idempotency window) is the same refund, so a
  -- retry after a crash or a lost answer never refunds twice. Another refund of the same amount
  -- and reason needs its own Idempotency-Key.
  if prepare_admin_refund.idempotency_key is not null then
    -- Per admin, and of a fixed length whatever the header's (providers take at most 255).
    v_key := 'tollgate-admin-refund:' || md5(prepare_admin_refund.actor_user_id::text || ':' || prepare_admin_refund.idempotency_key);
    select q.* into v_request from tollgate_private.refund_requests q where q.idempotency_key = v_key;
    if v_request.id is not null and v_request.request_hash <> v_hash then
      perform tollgate_private.raise_error('IDKEY', 'This idempotency key was used for a different refund',
        hint => 'Send a new Idempotency-Key for a new refund.');
    end if;
    -- The provider refused this key's refund, and would answer the same again.
    if v_request.state = 'failed' then
      perform tollgate_private.raise_error('PROVR', 'The provider refused this refund',
        detail => v_request.error, hint => 'Send a new Idempotency-Key to try again.');
    end if;
  else
    select q.* into v_request from tollgate_private.refund_requests q
    where q.request_hash = v_hash and q.created_at > now() - interval '24 hours' and q.state <> 'failed'
    order by q.created_at desc limit 1;
  end if;
  if v_request.id is not null then
    -- Sent already: answered from what was recorded, without asking the provider again (its own
    -- idempotency keys expire after 24 hours).
    if v_request.state = 'sent' then
      select jsonb_build_object(
          'refund', jsonb_build_object('id', v_request.refund_id, 'request_id', v_request.id,
            'provider', v_request.provider, 'payment_id', v_request.payment_id, 'status', r.details ->> 'status',
            'amount', v_request.amount, 'currency', v_request.currency, 'invoice_id', v_request.invoice_id,
            'purchase_id', v_request.purchase_id, 'reason', v_request.reason),
          'amount_refunded', v_refunded,
          'status', (select p.status from tollgate.purchases p where p.id = v_request.purchase_id))
      into v_answer
      from tollgate_private.provider_refs r
      where r.provider = v_request.provider and r.object_type = 'refund' and r.provider_id = v_request.refund_id;
    end if;
    return to_jsonb(v_request) - 'request_hash'
      || jsonb_build_object('request_id', v_request.id, 'replayed', true, 'answer', v_answer);
  end if;

  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.local_id = v_target_id and r.object_type in ('payment_intent', 'payment')
    and (r.details ->> 'kind' is null or r.details ->> 'kind' = rtrim(v_table, 's'))
  order by r.created_at
  limit 1;
  if v_payment.provider_id is null then
    perform tollgate_private.raise_error('NOTFD', format('No provider payment of this %s to refund', rtrim(v_table, 's')),
      hint => 'Only payments made through Stripe or Razorpay can be refunded here.');
  end if;

  -- Left to refund: paid, less what the provider has refunded or is refunding (pending refunds
  -- included), less requests sent to no provider yet.
  select greatest(v_refunded, coalesce(sum((r.details ->> 'amount')::bigint), 0))::bigint into v_held
  from tollgate_private.provider_refs r
  where r.provider = v_payment.provider and r.object_type = 'refund' and r.parent_id = v_payment.provider_id
    and r.details ->> 'status' not in ('failed', 'canceled');
  select v_held + coalesce(sum(q.amount), 0)::bigint into v_held
  from tollgate_private.refund_requests q
  where q.provider = v_payment.provider and q.payment_id = v_payment.provider_id and q.state = 'requested';
  v_left := greatest(v_paid - v_held, 0);
  v_amount := coalesce(prepare_admin_refund.amount, v_left);
  if v_amount <= 0 or v_amount > v_left then
    perform tollgate_private.raise_error('OVRFD', 'The refund is more than what is left to refund',
      detail => format('asked %s, left %s %s', v_amount, v_left, v_currency));
  end if;

  insert into tollgate_private.refund_requests (
    idempotency_key, request_hash, actor_user_id, invoice_id, purchase_id, provider, payment_id, amount,
    currency, reason)
  values (coalesce(v_key, 'tollgate-admin-refund:' || gen_random_uuid()::text), v_hash,
    prepare_admin_refund.actor_user_id, prepare_admin_refund.invoice_id, prepare_admin_refund.purchase_id,
    v_payment.provider, v_payment.provider_id, v_amount, v_currency, btrim(prepare_admin_refund.reason))
  returning * into v_request;

  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  values (v_table, v_target_id, v_user_id, 'update', jsonb_build_object('amount_refunded', v_refunded),
    jsonb_build_object('refund_request_id', v_request.id, 'refund_amount', v_amount, 'currency', v_currency,
      'provider', v_payment.provider, 'payment_id', v_payment.provider_id),
    prepare_admin_refund.actor_user_id, 'admin', btrim(prepare_admin_refund.reason));

  return to_jsonb(v_request) - 'request_hash' || jsonb_build_object('request_id', v_request.id, 'replayed', false);
end;
$$;

comment on function tollgate_private.prepare_admin_refund(uuid, uuid, uuid, bigint, text, text) is
  E'First step of an admin refund (POST /billing/admin/refund): checks the request (exactly one of invoice_id and purchase_id, a reason, BADRQ; NOTFD without the row or a provider payment), locks the row, refuses more than is left to refund (OVRFD; amount null = all that is left), and writes a refund_requests row, audited with the admin and reason, whose idempotency_key the provider call carries. The same Idempotency-Key (or, without one, the same request of the same admin within 24 hours) answers the request already written (replayed true), so a retry refunds once; the same key with another request is IDKEY, with a request the provider refused PROVR. A refused request (failed) holds nothing and is not replayed without a key.';

revoke all on function tollgate_private.prepare_admin_refund(uuid, uuid, uuid, bigint, text, text) from public, anon, authenticated, service_role;
