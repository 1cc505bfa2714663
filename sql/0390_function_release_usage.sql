create function tollgate_private.release_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if release_usage.amount is null or release_usage.amount <= 0 then
    perform tollgate_private.raise_error('INAMT', 'amount must be a whole number greater than 0',
      detail => format('got %s', coalesce(release_usage.amount::text, 'null')));
  end if;
  return tollgate_private.record_usage(
    release_usage.user_id, release_usage.metric, -release_usage.amount, release_usage.idempotency_key,
    release_usage.as_of);
end;
$$;

comment on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) is
  E'Gives back amount of a never-resetting metric (a gauge such as projects or storage) when the thing counted is gone; never goes below zero. Service role and triggers only.';

revoke all on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) to service_role;
