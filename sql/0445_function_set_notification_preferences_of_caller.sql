create function tollgate_private.set_notification_preferences_of_caller(email_opt_out text[])
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('set notification preferences', allow_anonymous => true);
  v_kinds text[];
  v_bad text;
begin
  select coalesce(array_agg(distinct k order by k), '{}') into v_kinds
  from pg_catalog.unnest(coalesce(set_notification_preferences_of_caller.email_opt_out, '{}')) k;
  -- Only kinds that exist, and none about money: those are always emailed.
  select k into v_bad
  from pg_catalog.unnest(v_kinds) k
  where k is null or not k = any (tollgate_private.notification_kinds())
  limit 1;
  if found then
    perform tollgate_private.raise_error('BADRQ', format('Unknown notification kind %s', coalesce(v_bad, 'null')),
      hint => 'Kinds are the ones tollgate.notifications.kind allows.');
  end if;
  select k into v_bad from pg_catalog.unnest(v_kinds) k where tollgate_private.is_payment_kind(k) limit 1;
  if found then
    perform tollgate_private.raise_error('BADRQ', format('%s emails cannot be turned off', v_bad),
      hint => 'Emails about payments are always sent.');
  end if;
  insert into tollgate.notification_preferences as p (user_id, email_opt_out)
  values (v_user_id, v_kinds)
  on conflict (user_id) do update set email_opt_out = excluded.email_opt_out, updated_at = now();
  return jsonb_build_object('email_opt_out', pg_catalog.to_jsonb(v_kinds));
end;
$$;

comment on function tollgate_private.set_notification_preferences_of_caller(text[]) is
  E'Sets the notification kinds the signed-in caller does not want by email (replacing the previous list; duplicates dropped). Unknown kinds and payment kinds (always emailed) are refused with 400 BADRQ, changing nothing. What tollgate.set_notification_preferences runs.';

revoke all on function tollgate_private.set_notification_preferences_of_caller(text[]) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.set_notification_preferences_of_caller(text[]) to authenticated;
