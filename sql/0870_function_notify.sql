create function tollgate_private.notify(
  user_id uuid,
  kind text,
  dedupe_key text,
  title text,
  body text,
  data jsonb default '{}'
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  -- Nobody to tell: a refund or dispute of a payment whose user was forgotten (deleted) since.
  if notify.user_id is null then
    return null;
  end if;
  insert into tollgate.notifications (user_id, kind, title, body, data, dedupe_key)
  values (notify.user_id, notify.kind, notify.title, notify.body, coalesce(notify.data, '{}'),
    notify.dedupe_key)
  on conflict on constraint notifications_user_id_dedupe_key_key do nothing
  returning id into v_id;
  return v_id;
end;
$$;

comment on function tollgate_private.notify(uuid, text, text, text, text, jsonb) is
  E'Writes a notification for user_id unless one with the same dedupe_key exists (then nothing: a retried webhook, a concurrent consumer or a second maintenance run adds nothing). Returns the new id, or null when it was a duplicate or user_id is null (a kept invoice or purchase of a user who was forgotten: nobody to notify). Its email is queued by the notifications trigger.';

revoke all on function tollgate_private.notify(uuid, text, text, text, text, jsonb) from public, anon, authenticated, service_role;
