-- One row of knobs the rules read; edited by admins in Studio.
create table tollgate_private.settings (
  id boolean primary key default true check (id),
  past_due_grace interval not null default interval '3 days' check (past_due_grace >= interval '0'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table tollgate_private.settings is
  E'Tollgate settings: exactly one row of knobs the billing rules read.';
comment on column tollgate_private.settings.id is E'Always true: makes this a single-row table.';
comment on column tollgate_private.settings.past_due_grace is
  E'How long a past_due subscription keeps its plan after what was paid for ends (a Stripe renewal that failed, the end of a one-off payment''s period); default 3 days. A change applies at once, to every user.';
comment on column tollgate_private.settings.created_at is E'When the row was created.';
comment on column tollgate_private.settings.updated_at is E'When the row was last changed.';

alter table tollgate_private.settings enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write settings" on tollgate_private.settings
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

insert into tollgate_private.settings default values;
create trigger _100_set_updated_at
  before update on tollgate_private.settings
  for each row execute function tollgate_private.tg__set_updated_at();
