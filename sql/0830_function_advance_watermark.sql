create function tollgate_private.advance_watermark(
  provider text,
  object_type text,
  provider_id text,
  event_at timestamptz,
  event_id text
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_ref tollgate_private.provider_refs;
begin
  insert into tollgate_private.provider_refs (provider, object_type, provider_id)
  values (advance_watermark.provider, advance_watermark.object_type, advance_watermark.provider_id)
  on conflict do nothing;

  -- Locked until commit: two deliveries about one object are applied one after the other.
  select r.* into v_ref
  from tollgate_private.provider_refs r
  where r.provider = advance_watermark.provider
    and r.object_type = advance_watermark.object_type
    and r.provider_id = advance_watermark.provider_id
  for update;

  -- Late events never overwrite newer state: order by creation time, then event id.
  if v_ref.last_event_at is not null
    and (v_ref.last_event_at, v_ref.last_event_id) >= (advance_watermark.event_at, advance_watermark.event_id) then
    return false;
  end if;

  update tollgate_private.provider_refs r
  set last_event_at = advance_watermark.event_at,
      last_event_id = advance_watermark.event_id
  where r.provider = advance_watermark.provider
    and r.object_type = advance_watermark.object_type
    and r.provider_id = advance_watermark.provider_id;
  return true;
end;
$$;

comment on function tollgate_private.advance_watermark(text, text, text, timestamptz, text) is
  E'Locks a provider object''s row and moves its watermark to this event when the event is newer (created time, then event id); false means the event is older than what was applied and must not be.';

revoke all on function tollgate_private.advance_watermark(text, text, text, timestamptz, text) from public, anon, authenticated, service_role;
