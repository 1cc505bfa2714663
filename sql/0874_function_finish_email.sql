create function tollgate_private.finish_email(
  notification_id uuid,
  attempt integer,
  outcome text,
  provider_message_id text default null,
  error text default null,
  retry_in_seconds integer default null
)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_state text;
begin
  if finish_email.outcome is null or finish_email.outcome not in ('sent', 'retry', 'dead') then
    raise exception 'outcome must be sent, retry or dead' using errcode = '22023';
  end if;
  if finish_email.outcome = 'retry' and (finish_email.retry_in_seconds is null or finish_email.retry_in_seconds < 0) then
    raise exception 'a retry needs retry_in_seconds >= 0' using errcode = '22023';
  end if;
  -- Only the claim that is still current records: a worker whose claim lapsed and was taken over
  -- changes nothing (the one that took it records, and Resend dropped the duplicate send).
  update tollgate_private.email_outbox o
  set state = case finish_email.outcome when 'retry' then 'failed' else finish_email.outcome end,
      provider_message_id = coalesce(finish_email.provider_message_id, o.provider_message_id),
      sent_at = case when finish_email.outcome = 'sent' then now() else o.sent_at end,
      last_error = case when finish_email.outcome = 'sent' then o.last_error
        else pg_catalog.left(finish_email.error, 2000) end,
      next_attempt_at = case when finish_email.outcome = 'retry'
        then now() + pg_catalog.make_interval(secs => finish_email.retry_in_seconds)
        else o.next_attempt_at end
  where o.notification_id = finish_email.notification_id
    and o.state = 'sending'
    and o.attempts = finish_email.attempt
  returning o.state into v_state;
  return v_state;
end;
$$;

comment on function tollgate_private.finish_email(uuid, integer, text, text, text, integer) is
  E'Records the outcome of one attempt of the notifications worker: sent (with Resend''s id), retry (failed, due again in retry_in_seconds: the worker computes the backoff) or dead (given up). Only the current claim (state sending, attempts = attempt) records; returns the new state, or null when the claim was no longer current.';

revoke all on function tollgate_private.finish_email(uuid, integer, text, text, text, integer) from public, anon, authenticated, service_role;
