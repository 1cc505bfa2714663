create function tollgate_private.scrub_personal_data(value jsonb, identifiers text[])
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_text text;
  v_identifier text;
begin
  case jsonb_typeof(scrub_personal_data.value)
    when 'object' then
      -- Fields that describe a person in Stripe's and Razorpay's objects lose their value; ids,
      -- amounts, currencies, statuses and times stay (the money trail).
      return coalesce((
        select jsonb_object_agg(e.key,
          case when e.key = any (array['email', 'name', 'phone', 'contact', 'address', 'shipping',
              'customer_email', 'customer_name', 'customer_phone', 'customer_address',
              'customer_shipping', 'customer_tax_ids', 'customer_details', 'billing_details',
              'receipt_email', 'tax_ids', 'vpa', 'card', 'fingerprint', 'ip', 'ip_address'])
              and jsonb_typeof(e.value) <> 'null'
            then 'null'::jsonb
            else tollgate_private.scrub_personal_data(e.value, scrub_personal_data.identifiers)
          end)
        from jsonb_each(scrub_personal_data.value) e), '{}'::jsonb);
    when 'array' then
      return coalesce((
        select jsonb_agg(tollgate_private.scrub_personal_data(e.value, scrub_personal_data.identifiers)
          order by e.ordinality)
        from jsonb_array_elements(scrub_personal_data.value) with ordinality e), '[]'::jsonb);
    when 'string' then
      v_text := scrub_personal_data.value #>> '{}';
      foreach v_identifier in array coalesce(scrub_personal_data.identifiers, '{}') loop
        -- Case-insensitive (emails); ***= takes the rest of the pattern as a literal string.
        if v_identifier <> '' and strpos(lower(v_text), lower(v_identifier)) > 0 then
          v_text := regexp_replace(v_text, '***=' || v_identifier, '[forgotten]', 'gi');
        end if;
      end loop;
      return to_jsonb(v_text);
    else
      return scrub_personal_data.value;
  end case;
end;
$$;

comment on function tollgate_private.scrub_personal_data(jsonb, text[]) is
  E'A JSON value (a provider webhook payload, audit values) without personal data: fields that describe a person (email, name, phone, address, shipping, billing and customer details, card, IP...) become null at any depth, and every occurrence of the given identifiers (a user id, an email, a provider customer id) in a string becomes [forgotten], ignoring case. Ids, amounts, currencies, statuses and times stay. Used by forget_user.';

revoke all on function tollgate_private.scrub_personal_data(jsonb, text[]) from public, anon, authenticated, service_role;
