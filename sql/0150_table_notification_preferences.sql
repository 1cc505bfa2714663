-- Which notifications a user does not want by email (set with tollgate.set_notification_preferences).
create table tollgate.notification_preferences (
  user_id uuid primary key references auth.users (id) on delete cascade,
  email_opt_out text[] not null default '{}',
  updated_at timestamptz not null default now()
);

comment on table tollgate.notification_preferences is
  E'Each user''s email preferences: the notification kinds they do not want by email. Payment kinds are emailed all the same. Written only by tollgate.set_notification_preferences.';
comment on column tollgate.notification_preferences.user_id is E'Whose preferences (auth.users).';
comment on column tollgate.notification_preferences.email_opt_out is
  E'Notification kinds not to email (they still appear in tollgate.notifications).';
comment on column tollgate.notification_preferences.updated_at is E'When they were last set.';

alter table tollgate.notification_preferences enable row level security;

create policy "Users read their own preferences, admins read all" on tollgate.notification_preferences
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.notification_preferences to authenticated, service_role;
