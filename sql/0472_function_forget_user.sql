create function tollgate_private.forget_user(user_id uuid, via text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_user_id uuid := forget_user.user_id;
  -- Stands for the user in the rows kept for the money trail (audit log, refund requests): those
  -- rows still read as one person's, and nothing links them to who it was.
  v_pseudonym uuid := gen_random_uuid();
  v_email text;
  -- Nothing mentions the user before they existed: the full-text searches below start there.
  v_since timestamptz;
  v_customers text[];
  v_identifiers text[];
  v_patterns text[];
  v_deleted jsonb := '{}'::jsonb;
  v_kept jsonb := '{}'::jsonb;
  v_n bigint;
  v_total bigint := 0;
  v_actor uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('BADRQ', 'forget_user needs a user id');
  end if;
  -- The lock every writer of a user's subscriptions takes (apply_stripe_subscription): a webhook
  -- applied meanwhile waits, then finds the user gone or forgotten.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));

  -- ============ GUARD: what identifies the user ============
  -- Their id, their email while auth.users still has it, their provider customer ids (recorded,
  -- or named in a webhook payload that names the user).
  select u.email, u.created_at into v_email, v_since from auth.users u where u.id = v_user_id;
  v_since := coalesce(v_since, '-infinity');
  select array_agg(distinct x.id) into v_customers
  from (
    select c.provider_customer_id as id from tollgate_private.customers c where c.user_id = v_user_id
    union
    select s.id from tollgate_private.webhook_events w
    cross join lateral unnest(w.subjects) s(id)
    where w.subjects && array[v_user_id::text]
  ) x
  where x.id ~ '^cus_[A-Za-z0-9]+$' or x.id ~ '^cust_[A-Za-z0-9]+$';
  v_identifiers := array[v_user_id::text] || coalesce(v_customers, '{}')
    || case when coalesce(v_email, '') <> '' then array[v_email] else '{}' end;
  -- LIKE patterns of the identifiers, taken literally.
  select array_agg('%' || replace(replace(replace(i, '\', '\\'), '%', '\%'), '_', '\_') || '%')
  into v_patterns from unnest(v_identifiers) i;

  -- ============ Deleted: what only described the user ============
  -- Subscriptions first: their delete triggers audit the end and re-sync the user's counters
  -- (deleted below). A live Stripe subscription was cancelled at Stripe before (delete-account),
  -- or its cancellation is queued in the provider outbox (the auth.users trigger, delete_account).
  delete from tollgate.subscriptions s where s.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('subscriptions', v_n);
  v_total := v_total + v_n;

  delete from tollgate.credit_balances g where g.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('credit_balances', v_n);
  v_total := v_total + v_n;

  delete from tollgate_private.usage_counters u where u.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('usage_counters', v_n);
  v_total := v_total + v_n;

  delete from tollgate_private.usage_events e where e.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('usage_events', v_n);
  v_total := v_total + v_n;

  -- Emails not sent yet are not sent any more.
  delete from tollgate_private.email_outbox o where o.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('email_outbox', v_n);
  v_total := v_total + v_n;

  delete from tollgate.notifications n where n.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('notifications', v_n);
  v_total := v_total + v_n;

  delete from tollgate.notification_preferences p where p.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('notification_preferences', v_n);
  v_total := v_total + v_n;

  -- A use stays counted in coupons.times_redeemed, reserved or redeemed (an overrun in
  -- times_overrun): a reserved one's checkout may have been paid at the provider before the
  -- deletion, and the answer that would settle it finds no one once these rows are gone. A caller
  -- that knows a checkout closed unpaid gives its use back first (delete_account).
  delete from tollgate_private.coupon_redemptions r where r.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('coupon_redemptions', v_n);
  v_total := v_total + v_n;

  -- The provider customer id links the user to everything the provider holds about them.
  delete from tollgate_private.customers c where c.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('customers', v_n);
  v_total := v_total + v_n;

  -- The refs of what was the user's alone (subscriptions, checkouts, orders); the refs of payments
  -- stay below, so a later refund or dispute still finds the kept invoice or purchase.
  delete from tollgate_private.provider_refs r
  where r.user_id = v_user_id and r.object_type in ('subscription', 'checkout_session', 'order');
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('provider_refs', v_n);
  v_total := v_total + v_n;

  -- API keys (their hashes go with them: api_key_secrets cascades); nothing can call as the user after.
  delete from tollgate.api_keys k where k.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_deleted := v_deleted || jsonb_build_object('api_keys', v_n);
  v_total := v_total + v_n;

  -- ============ Kept without personal data: the money trail ============
  -- Refund requests of the user's payments first (the owner of those is cleared just below).
  with scrubbed as (
    select q.id,
      case when q.actor_user_id = v_user_id then v_pseudonym else q.actor_user_id end as actor_user_id,
      tollgate_private.scrub_personal_data(to_jsonb(q.reason), v_identifiers) #>> '{}' as reason,
      tollgate_private.scrub_personal_data(to_jsonb(q.error), v_identifiers) #>> '{}' as error
    from tollgate_private.refund_requests q
    where q.actor_user_id = v_user_id
      or q.invoice_id in (select i.id from tollgate.invoices i where i.user_id = v_user_id)
      or q.purchase_id in (select p.id from tollgate.purchases p where p.user_id = v_user_id)
      or (q.created_at >= v_since and (q.reason ilike any (v_patterns) or q.error ilike any (v_patterns)))
  )
  update tollgate_private.refund_requests q
  set actor_user_id = s.actor_user_id, reason = s.reason, error = s.error
  from scrubbed s
  where q.id = s.id
    and (q.actor_user_id, q.reason, q.error) is distinct from (s.actor_user_id, s.reason, s.error);
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('refund_requests', v_n);
  v_total := v_total + v_n;

  -- What an admin wrote about them on another user's credits (the user's own credits are gone).
  update tollgate.credit_balances g
  set reason = tollgate_private.scrub_personal_data(to_jsonb(g.reason), v_identifiers) #>> '{}'
  where g.created_at >= v_since and g.reason ilike any (v_patterns);
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('credit_balances', v_n);
  v_total := v_total + v_n;

  -- Invoices and purchases stay for the accounts (tax law), without their owner; the invoice's
  -- pages show the customer's name and address, so their links go.
  update tollgate.invoices i
  set user_id = null, hosted_invoice_url = null, invoice_pdf = null
  where i.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('invoices', v_n);
  v_total := v_total + v_n;

  update tollgate.purchases p set user_id = null where p.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('purchases', v_n);
  v_total := v_total + v_n;

  update tollgate_private.provider_refs r
  set user_id = null, details = tollgate_private.scrub_personal_data(r.details, v_identifiers)
  where r.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('provider_refs', v_n);
  v_total := v_total + v_n;

  -- The outbox still owes Stripe the cancellation of their subscriptions: it stays, unowned.
  update tollgate_private.provider_actions a set user_id = null where a.user_id = v_user_id;
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('provider_actions', v_n);
  v_total := v_total + v_n;

  -- Webhook payloads about the user (by their id or customer id, through the subjects index):
  -- ids and amounts stay (replays and money integrity), names, emails, addresses, phones and the
  -- user's ids go.
  with scrubbed as (
    select w.id, p.payload, tollgate_private.webhook_event_subjects(w.provider, p.payload) as subjects,
      tollgate_private.scrub_personal_data(to_jsonb(w.error), v_identifiers) #>> '{}' as error
    from tollgate_private.webhook_events w
    cross join lateral (select tollgate_private.scrub_personal_data(w.payload, v_identifiers) as payload) p
    where w.subjects && (array[v_user_id::text] || coalesce(v_customers, '{}'))
  )
  update tollgate_private.webhook_events w
  set payload = s.payload, error = s.error, subjects = s.subjects
  from scrubbed s
  where w.id = s.id and (w.payload, w.error, w.subjects) is distinct from (s.payload, s.error, s.subjects);
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('webhook_events', v_n);
  v_total := v_total + v_n;

  -- The audit trail about them (and what they did as an admin) stays, under the pseudonym.
  with scrubbed as (
    select a.id,
      case when a.user_id = v_user_id then v_pseudonym else a.user_id end as user_id,
      case when a.record_id = v_user_id then v_pseudonym else a.record_id end as record_id,
      case when a.actor_user_id = v_user_id then v_pseudonym else a.actor_user_id end as actor_user_id,
      tollgate_private.scrub_personal_data(a.old_values, v_identifiers) as old_values,
      tollgate_private.scrub_personal_data(a.new_values, v_identifiers) as new_values,
      tollgate_private.scrub_personal_data(to_jsonb(a.reason), v_identifiers) #>> '{}' as reason
    from tollgate_private.audit_log a
    where a.user_id = v_user_id or a.record_id = v_user_id or a.actor_user_id = v_user_id
  )
  update tollgate_private.audit_log a
  set user_id = s.user_id, record_id = s.record_id, actor_user_id = s.actor_user_id,
    old_values = s.old_values, new_values = s.new_values, reason = s.reason
  from scrubbed s
  where a.id = s.id
    and (a.user_id, a.record_id, a.actor_user_id, a.old_values, a.new_values, a.reason)
      is distinct from (s.user_id, s.record_id, s.actor_user_id, s.old_values, s.new_values, s.reason);
  get diagnostics v_n = row_count;
  v_kept := v_kept || jsonb_build_object('audit_log', v_n);
  v_total := v_total + v_n;

  -- GUARD: a second run finds nothing, writes nothing and says so.
  if v_total = 0 then
    return jsonb_build_object('forgotten', false, 'nothing_left', true,
      'deleted', v_deleted, 'kept_without_personal_data', v_kept);
  end if;

  -- The deletion itself, audited with counts and no personal data.
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  values ('users', v_pseudonym, v_pseudonym, 'delete', null,
    jsonb_build_object('deleted', v_deleted, 'kept_without_personal_data', v_kept),
    case when v_actor = v_user_id then v_pseudonym else v_actor end,
    coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user::text),
    'account deleted: ' || coalesce(forget_user.via, 'unknown'));

  return jsonb_build_object('forgotten', true, 'nothing_left', false,
    'deleted', v_deleted, 'kept_without_personal_data', v_kept);
end;
$$;

comment on function tollgate_private.forget_user(uuid, text) is
  E'Forgets a user in one transaction: deletes what only described them (subscriptions, credits, usage counters and ledger, notifications, preferences, unsent emails, coupon use rows (the uses stay counted on the coupon: a reserved one may have been paid in flight), provider customers, the refs of their subscriptions and checkouts) and keeps the money trail without personal data (invoices and purchases with user_id null and no invoice links, payment refs and outbox actions unowned, webhook payloads, audit rows and admins'' reasons on credits and refunds scrubbed of names, emails, addresses, phones and the user''s ids, their id in audit and refund rows replaced by a pseudonym). A live Stripe subscription must be cancelled at Stripe first, or queued in the outbox. Answers the counts per kind; a second run changes nothing and answers nothing_left. via (delete-account, auth.users) goes to the audit row of the deletion. Called by delete_account and by the auth.users delete trigger.';

revoke all on function tollgate_private.forget_user(uuid, text) from public, anon, authenticated, service_role;
