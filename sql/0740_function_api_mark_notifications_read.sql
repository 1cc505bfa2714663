create function tollgate.mark_notifications_read(ids uuid[] default null)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.mark_notifications_read_of_caller(mark_notifications_read.ids);
end;
$$;

comment on function tollgate.mark_notifications_read(uuid[]) is
  E'Marks your unread notifications read: those whose ids you pass (at most 1000; others'' ids are ignored), or all of them when ids is null. Returns how many were marked.';

revoke all on function tollgate.mark_notifications_read(uuid[]) from public, anon, authenticated, service_role;

grant execute on function tollgate.mark_notifications_read(uuid[]) to authenticated;
