create function tollgate_private.claim_emails(
  batch_size integer default 10,
  lease_seconds integer default 120,
  max_attempts integer default 8
)
returns table (
  notification_id uuid,
  attempt integer,
  idempotency_key text,
  kind text,
  email text,
  title text,
  body text,
  data jsonb
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if claim_emails.batch_size is null or claim_emails.batch_size not between 1 and 500
    or claim_emails.lease_seconds is null or claim_emails.lease_seconds not between 1 and 3600
    or claim_emails.max_attempts is null or claim_emails.max_attempts < 1 then
    raise exception 'batch_size must be 1 to 500, lease_seconds 1 to 3600, max_attempts at least 1'
      using errcode = '22023';
  end if;

  -- A claim that lapsed after max_attempts tries (a worker crashing on it every time) is given up.
  update tollgate_private.email_outbox o
  set state = 'dead',
      last_error = coalesce(o.last_error || '; ', '') || 'gave up: the claim lapsed after the last attempt'
  where o.state = 'sending'
    and o.next_attempt_at <= now()
    and o.attempts >= claim_emails.max_attempts;

  return query
  with due as (
    select o.notification_id
    from tollgate_private.email_outbox o
    where o.state in ('queued', 'failed', 'sending')
      and o.next_attempt_at <= now()
    order by o.next_attempt_at
    limit claim_emails.batch_size
    for update skip locked
  ),
  claimed as (
    update tollgate_private.email_outbox o
    set state = 'sending',
        attempts = o.attempts + 1,
        next_attempt_at = now() + pg_catalog.make_interval(secs => claim_emails.lease_seconds)
    from due
    where o.notification_id = due.notification_id
    returning o.notification_id, o.attempts, o.idempotency_key, o.kind, o.user_id
  )
  select c.notification_id, c.attempts, c.idempotency_key, c.kind, u.email::text, n.title, n.body, n.data
  from claimed c
  join tollgate.notifications n on n.id = c.notification_id
  left join auth.users u on u.id = c.user_id;
end;
$$;

comment on function tollgate_private.claim_emails(integer, integer, integer) is
  E'The notifications worker''s claim: up to batch_size due emails (queued, failed and due again, or sending with a lapsed claim), locked with for update skip locked so two workers never take the same row, marked sending for lease_seconds with one more attempt. Returns what the worker needs to render and send each (the address from auth.users, null when the user has none). Call it in its own transaction, send, then record each outcome with finish_email.';

revoke all on function tollgate_private.claim_emails(integer, integer, integer) from public, anon, authenticated, service_role;
