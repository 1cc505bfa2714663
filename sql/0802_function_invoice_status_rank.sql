-- An invoice only moves forward: draft, open, uncollectible, then paid or void (Stripe's order).
create function tollgate_private.invoice_status_rank(status text)
returns integer
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return case invoice_status_rank.status
    when 'draft' then 0 when 'open' then 1 when 'uncollectible' then 2 else 3 end;
end;
$$;

comment on function tollgate_private.invoice_status_rank(text) is
  E'How far an invoice status is along: draft 0, open 1, uncollectible 2, paid and void 3. A status never moves to a lower rank, so of two snapshots of one invoice the one further along is the newer (apply_stripe_invoice).';

revoke all on function tollgate_private.invoice_status_rank(text) from public, anon, authenticated, service_role;
