create function tollgate_private.webhook_event_processed(provider text, event_id text)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql for the reason in 0800_function_unix_time.sql: its plan is kept between calls.
  return coalesce((
    select w.processed_at is not null
    from tollgate_private.webhook_events w
    where w.provider = webhook_event_processed.provider and w.event_id = webhook_event_processed.event_id), false);
end;
$$;

comment on function tollgate_private.webhook_event_processed(text, text) is
  E'True when this provider event is in the webhook ledger and was processed: a read without locks, so the webhook skips provider calls a duplicate delivery does not need (apply_*_event still decides and records).';

revoke all on function tollgate_private.webhook_event_processed(text, text) from public, anon, authenticated, service_role;
