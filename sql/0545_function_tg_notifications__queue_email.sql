create function tollgate_private.tg_notifications__queue_email()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not tollgate_private.is_payment_kind(new.kind) and exists (
    select from tollgate.notification_preferences p
    where p.user_id = new.user_id and new.kind = any (p.email_opt_out)
  ) then
    return null;
  end if;
  insert into tollgate_private.email_outbox (notification_id, user_id, kind)
  values (new.id, new.user_id, new.kind);
  return null;
end;
$$;

comment on function tollgate_private.tg_notifications__queue_email() is
  E'Trigger: queues the email of a new notification in tollgate_private.email_outbox, in the same transaction, unless the user opted out of its kind by email (payment kinds are always queued).';

revoke all on function tollgate_private.tg_notifications__queue_email() from public, anon, authenticated, service_role;

create trigger _500_queue_email
  after insert on tollgate.notifications
  for each row execute function tollgate_private.tg_notifications__queue_email();
