create function tollgate.service_role_release_usage(
  user_id uuid,
  metric text,
  amount bigint default 1,
  idempotency_key text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return tollgate_private.release_usage(
    service_role_release_usage.user_id, service_role_release_usage.metric, service_role_release_usage.amount,
    service_role_release_usage.idempotency_key, now());
end;
$$;

comment on function tollgate.service_role_release_usage(uuid, text, bigint, text) is
  E'Gives back amount of a never-resetting metric (projects, storage) for a user when what was counted is gone; never below zero; errors with GAUGE for metrics that reset. Service role only.';

revoke all on function tollgate.service_role_release_usage(uuid, text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.service_role_release_usage(uuid, text, bigint, text) to service_role;
