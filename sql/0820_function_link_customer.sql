create function tollgate_private.link_customer(user_id uuid, provider text, provider_customer_id text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_owner uuid;
begin
  if link_customer.provider_customer_id is null then
    return;
  end if;
  select c.user_id into v_owner
  from tollgate_private.customers c
  where c.provider = link_customer.provider and c.provider_customer_id = link_customer.provider_customer_id;
  if v_owner is not null and v_owner <> link_customer.user_id then
    raise exception 'Customer % belongs to another user', link_customer.provider_customer_id
      using errcode = 'CUSTM', hint = 'A provider customer is never shared between users.';
  end if;
  -- Linked already (every event after the first): nothing to write.
  if v_owner is not null then
    return;
  end if;
  -- The first customer recorded for a user stays theirs; checkout reuses it.
  insert into tollgate_private.customers (user_id, provider, provider_customer_id)
  values (link_customer.user_id, link_customer.provider, link_customer.provider_customer_id)
  on conflict do nothing;
end;
$$;

comment on function tollgate_private.link_customer(uuid, text, text) is
  E'Records a provider customer as the user''s (the first one stays); refuses (CUSTM) a customer already linked to another user.';

revoke all on function tollgate_private.link_customer(uuid, text, text) from public, anon, authenticated, service_role;
