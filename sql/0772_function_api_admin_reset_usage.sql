create function tollgate.admin_reset_usage(user_id uuid, metric text, reason text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.admin_reset_usage(admin_reset_usage.user_id, admin_reset_usage.metric, admin_reset_usage.reason);
end;
$$;

comment on function tollgate.admin_reset_usage(uuid, text, text) is
  E'Sets the user''s usage of a resetting metric in the current period back to 0; answers {metric, used_before, used}. Gauges (never-resetting metrics) refuse (400 BADRQ). Audited with you, the old count and the reason. Admins and the service role only (others 403 NOADM).';

revoke all on function tollgate.admin_reset_usage(uuid, text, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.admin_reset_usage(uuid, text, text) to authenticated, service_role;
