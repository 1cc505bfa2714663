create function tollgate.set_notification_preferences(email_opt_out text[])
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.set_notification_preferences_of_caller(set_notification_preferences.email_opt_out);
end;
$$;

comment on function tollgate.set_notification_preferences(text[]) is
  E'Sets the notification kinds you do not want by email (they still appear in tollgate.notifications); returns {email_opt_out}. Payment kinds (payment_succeeded, payment_failed, purchase_succeeded, payment_refunded, dispute_opened) are always emailed: asking to turn them off, or naming an unknown kind, is 400 BADRQ and changes nothing.';

revoke all on function tollgate.set_notification_preferences(text[]) from public, anon, authenticated, service_role;

grant execute on function tollgate.set_notification_preferences(text[]) to authenticated;
