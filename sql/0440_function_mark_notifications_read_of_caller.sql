create function tollgate_private.mark_notifications_read_of_caller(ids uuid[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('mark notifications read', allow_anonymous => true);
  v_count integer;
begin
  if mark_notifications_read_of_caller.ids is not null
    and pg_catalog.cardinality(mark_notifications_read_of_caller.ids) > 1000 then
    perform tollgate_private.raise_error('BADRQ', 'At most 1000 notification ids at once',
      hint => 'Pass null to mark every notification read.');
  end if;
  update tollgate.notifications n
  set read_at = now()
  where n.user_id = v_user_id
    and n.read_at is null
    and (mark_notifications_read_of_caller.ids is null or n.id = any (mark_notifications_read_of_caller.ids));
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function tollgate_private.mark_notifications_read_of_caller(uuid[]) is
  E'Marks the signed-in caller''s unread notifications read: those in ids, or all when ids is null; others'' ids are ignored. Returns how many it marked. What tollgate.mark_notifications_read runs.';

revoke all on function tollgate_private.mark_notifications_read_of_caller(uuid[]) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.mark_notifications_read_of_caller(uuid[]) to authenticated;
