create function tollgate_private.audit(
  table_name text,
  record_id uuid,
  user_id uuid,
  action text,
  old_values jsonb,
  new_values jsonb,
  reason text
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  values (audit.table_name, audit.record_id, audit.user_id, audit.action, audit.old_values,
    audit.new_values, tollgate_private.caller_id(),
    coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user::text), audit.reason);
end;
$$;

comment on function tollgate_private.audit(text, uuid, uuid, text, jsonb, jsonb, text) is
  E'Writes one audit_log row for a change a function made (not a trigger): what, whose, old and new values, the actor (the caller''s user id and database role) and the reason.';

revoke all on function tollgate_private.audit(text, uuid, uuid, text, jsonb, jsonb, text) from public, anon, authenticated, service_role;
