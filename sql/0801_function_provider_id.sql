-- plpgsql for the reason in 0800_function_unix_time.sql: called on every webhook event.
create function tollgate_private.provider_id(value jsonb)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  -- Stripe's expandable fields are either an id string or the expanded object.
  return case jsonb_typeof(provider_id.value)
    when 'string' then provider_id.value #>> '{}'
    when 'object' then provider_id.value ->> 'id'
  end;
end;
$$;

comment on function tollgate_private.provider_id(jsonb) is
  E'The id in a provider field that is either an id string or an expanded object with an id.';

revoke all on function tollgate_private.provider_id(jsonb) from public, anon, authenticated, service_role;
