-- The one SQL home of the notification kinds (packages/notifications/src/kinds.ts is the same list:
-- tests/schema compares them). Immutable with no arguments, so a check constraint can call it and
-- the planner folds it into a constant.
create function tollgate_private.notification_kinds()
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return array[
    'payment_succeeded', 'payment_failed', 'trial_ending', 'cancel_scheduled', 'subscription_ended',
    'plan_changed', 'renewal_upcoming', 'quota_warning', 'quota_exhausted', 'purchase_succeeded',
    'payment_refunded', 'dispute_opened']::text[];
end;
$$;

comment on function tollgate_private.notification_kinds() is
  E'Every kind of notification (tollgate.notifications.kind''s check and set_notification_preferences read it). Adding a kind: add it here and in packages/notifications; existing rows are not re-checked.';

revoke all on function tollgate_private.notification_kinds() from public, anon, authenticated, service_role;
