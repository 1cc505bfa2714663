-- What happened to a user's money and quota, written by the database in the transaction that made
-- it happen. Owners read theirs (live through Realtime), admins all; clients only mark them read.
create table tollgate.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null check (kind = any (tollgate_private.notification_kinds())),
  title text not null,
  body text not null,
  data jsonb not null default '{}',
  read_at timestamptz,
  created_at timestamptz not null default now(),
  dedupe_key text not null,
  constraint notifications_user_id_dedupe_key_key unique (user_id, dedupe_key)
);

create index notifications_user_id_created_at_idx on tollgate.notifications (user_id, created_at desc);

comment on table tollgate.notifications is
  E'What happened to each user''s payments, subscription and quota, newest last: written by Tollgate in the same transaction as the change, at most once per event (dedupe_key). The user reads their own (and gets them live through Realtime where the supabase_realtime publication exists); admins read all.';
comment on column tollgate.notifications.id is E'Notification id.';
comment on column tollgate.notifications.user_id is E'Whom it is for (auth.users).';
comment on column tollgate.notifications.kind is
  E'payment_succeeded, payment_failed, trial_ending, cancel_scheduled, subscription_ended, plan_changed, renewal_upcoming, quota_warning (80 % of a quota), quota_exhausted (100 % or a first refusal), purchase_succeeded, payment_refunded or dispute_opened.';
comment on column tollgate.notifications.title is E'A one-line summary to show.';
comment on column tollgate.notifications.body is E'A sentence or two to show under the title.';
comment on column tollgate.notifications.data is
  E'The facts behind it, for apps and email templates: plan, amounts in minor units with their currency, invoice link, metric and figures, dates.';
comment on column tollgate.notifications.read_at is E'When the user marked it read (tollgate.mark_notifications_read); null = unread.';
comment on column tollgate.notifications.created_at is E'When it was written.';
comment on column tollgate.notifications.dedupe_key is
  E'What makes it once: the event it reports (e.g. quota_warning:<metric>:<period start>, payment_failed:<subscription>:<period>). A second write with the same key for the user is dropped.';
comment on constraint notifications_user_id_dedupe_key_key on tollgate.notifications is
  E'At most one notification per user and event, whatever the retries and the concurrency.';

alter table tollgate.notifications enable row level security;

create policy "Users read their own notifications, admins read all" on tollgate.notifications
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.notifications to authenticated, service_role;

-- Live to their owner where Supabase Realtime runs (its publication does not exist elsewhere).
do $$
begin
  if exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table tollgate.notifications;
  end if;
end;
$$;
