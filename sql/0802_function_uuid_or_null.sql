-- plpgsql for the reason in 0800_function_unix_time.sql: called on every webhook event.
create function tollgate_private.uuid_or_null(value text)
returns uuid
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  return case
    when uuid_or_null.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then uuid_or_null.value::uuid
  end;
end;
$$;

comment on function tollgate_private.uuid_or_null(text) is
  E'The text as a uuid, or null when it is not one (provider metadata is untrusted text).';

revoke all on function tollgate_private.uuid_or_null(text) from public, anon, authenticated, service_role;
