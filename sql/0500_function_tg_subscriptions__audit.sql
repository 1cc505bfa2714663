create function tollgate_private.tg_subscriptions__audit()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (old.plan_id, old.status) is not distinct from (new.plan_id, new.status) then
    return null;
  end if;
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason
  )
  values (
    'subscriptions',
    case when tg_op = 'DELETE' then old.id else new.id end,
    case when tg_op = 'DELETE' then old.user_id else new.user_id end,
    lower(tg_op),
    case when tg_op <> 'INSERT' then jsonb_build_object('plan_id', old.plan_id, 'status', old.status) end,
    case when tg_op <> 'DELETE' then jsonb_build_object('plan_id', new.plan_id, 'status', new.status) end,
    -- Not auth.uid() and auth.role(): SQL functions with a pinned search_path, which Postgres plans
    -- again on every call (~85 us a write on the webhook path).
    tollgate_private.caller_id(),
    tollgate_private.caller_role(),
    nullif(current_setting('tollgate.audit_reason', true), '')
  );
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__audit() is
  E'Trigger: writes an audit_log row for every new, deleted, or re-planned or re-statused subscription (who, old, new, when).';

revoke all on function tollgate_private.tg_subscriptions__audit() from public, anon, authenticated, service_role;

create trigger _200_audit
  after insert or update or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__audit();
