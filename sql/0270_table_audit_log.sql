create table tollgate_private.audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  table_name text not null,
  record_id uuid not null,
  user_id uuid,
  action text not null check (action in ('insert', 'update', 'delete')),
  old_values jsonb,
  new_values jsonb,
  actor_user_id uuid,
  actor_role text not null,
  reason text
);

create index audit_log_record_id_idx on tollgate_private.audit_log (record_id, occurred_at);
create index audit_log_user_id_idx on tollgate_private.audit_log (user_id, occurred_at);

comment on table tollgate_private.audit_log is
  E'Who changed what and when: every new subscription and every change of a subscription''s plan or status, written by trigger.';
comment on column tollgate_private.audit_log.id is E'Audit row id.';
comment on column tollgate_private.audit_log.occurred_at is E'When the change happened (transaction time).';
comment on column tollgate_private.audit_log.table_name is E'Table changed, e.g. subscriptions.';
comment on column tollgate_private.audit_log.record_id is E'Id of the changed row.';
comment on column tollgate_private.audit_log.user_id is E'The user the row belongs to.';
comment on column tollgate_private.audit_log.action is E'insert, update or delete.';
comment on column tollgate_private.audit_log.old_values is E'The audited fields before the change (null on insert).';
comment on column tollgate_private.audit_log.new_values is E'The audited fields after the change (null on delete).';
comment on column tollgate_private.audit_log.actor_user_id is E'The signed-in user who caused it, if any (auth.uid()).';
comment on column tollgate_private.audit_log.actor_role is E'The role that caused it: the JWT role (authenticated, service_role) or the database role (postgres, a Studio admin).';
comment on column tollgate_private.audit_log.reason is E'Why, when Tollgate knows: e.g. stripe:evt_123, maintenance.';

alter table tollgate_private.audit_log enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write audit log" on tollgate_private.audit_log
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
