create function tollgate_private.advance_watermark(
  provider text,
  object_type text,
  provider_id text,
  event_at timestamptz,
  event_id text,
  local_id uuid default null,
  user_id uuid default null,
  parent_id text default null
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- One statement: an object seen for the first time is inserted with its watermark and the link
  -- the caller gives; a known row keeps its link and gets the given one only where it has none. The
  -- row is locked until commit even when the event is older and nothing is updated (ON CONFLICT DO
  -- UPDATE locks the row before its WHERE), so two deliveries about one object are applied one after
  -- the other. Late events never overwrite newer state: order by creation time, then event id.
  insert into tollgate_private.provider_refs as r (
    provider, object_type, provider_id, local_id, user_id, parent_id, last_event_at, last_event_id)
  values (
    advance_watermark.provider, advance_watermark.object_type, advance_watermark.provider_id,
    advance_watermark.local_id, advance_watermark.user_id, advance_watermark.parent_id,
    advance_watermark.event_at, advance_watermark.event_id)
  on conflict on constraint provider_refs_pkey do update
    set last_event_at = excluded.last_event_at,
        last_event_id = excluded.last_event_id,
        local_id = coalesce(r.local_id, excluded.local_id),
        user_id = coalesce(r.user_id, excluded.user_id),
        parent_id = coalesce(r.parent_id, excluded.parent_id)
    where (r.last_event_at is not null
      and (r.last_event_at, r.last_event_id) >= (excluded.last_event_at, excluded.last_event_id)) is not true;
  return found;
end;
$$;

comment on function tollgate_private.advance_watermark(text, text, text, timestamptz, text, uuid, uuid, text) is
  E'Locks a provider object''s row and moves its watermark to this event when the event is newer (created time, then event id); false means the event is older than what was applied and must not be. The link given (local_id, user_id, parent_id) is stored where the row has none, so afterwards the row''s local_id is the object''s local row: the given id means a new one.';

revoke all on function tollgate_private.advance_watermark(text, text, text, timestamptz, text, uuid, uuid, text) from public, anon, authenticated, service_role;
