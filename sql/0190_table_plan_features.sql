create table tollgate.plan_features (
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  feature text not null check (feature ~ '^[a-z0-9][a-z0-9_.:-]{0,62}$'),
  created_at timestamptz not null default now(),
  primary key (plan_id, feature)
);

comment on table tollgate.plan_features is
  E'Features each plan unlocks, by name (e.g. export, sso): what tollgate.has_feature answers for the app''s own rules. Readable by all.';
comment on column tollgate.plan_features.plan_id is E'The plan.';
comment on column tollgate.plan_features.feature is E'A feature name the app checks with tollgate.has_feature(feature).';
comment on column tollgate.plan_features.created_at is E'When the feature was added to the plan.';

alter table tollgate.plan_features enable row level security;

create policy "Anyone can read plan features" on tollgate.plan_features
  for select to anon, authenticated
  using (true);

grant select on tollgate.plan_features to anon, authenticated, service_role;
