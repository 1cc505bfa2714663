create table tollgate.member_discounts (
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  product_id text not null references tollgate.products (id) on update cascade on delete cascade,
  percent_off integer not null check (percent_off between 1 and 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (plan_id, product_id)
);

create index member_discounts_product_id_idx on tollgate.member_discounts (product_id);

comment on table tollgate.member_discounts is
  E'What subscribers pay less for products: users on plan_id get percent_off the price of product_id, before any coupon.';
comment on column tollgate.member_discounts.plan_id is E'The plan whose subscribers get the discount.';
comment on column tollgate.member_discounts.product_id is E'The product discounted.';
comment on column tollgate.member_discounts.percent_off is E'Percentage taken off the product''s price (1-100).';
comment on column tollgate.member_discounts.created_at is E'When the discount was created.';
comment on column tollgate.member_discounts.updated_at is E'When the row was last changed.';

alter table tollgate.member_discounts enable row level security;

create policy "Anyone can read member discounts" on tollgate.member_discounts
  for select to anon, authenticated
  using (true);

grant select on tollgate.member_discounts to anon, authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.member_discounts
  for each row execute function tollgate_private.tg__set_updated_at();
