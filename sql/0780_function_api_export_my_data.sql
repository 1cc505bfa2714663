create function tollgate.export_my_data(ledger_page integer default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.export_of_caller(export_my_data.ledger_page);
end;
$$;

comment on function tollgate.export_my_data(integer) is
  E'Your data in Tollgate, as JSON you can read: your account (id, email), subscriptions, invoices, purchases, credits, usage now, the usage ledger (in full up to 1000 rows; beyond that a summary per metric and day, with the rows by pages: export_my_data(ledger_page => n)), notifications and preferences, coupon uses, payment accounts (provider customer ids) and the audit trail about you (who acted: you, or a role). Nothing of anyone else.';

revoke all on function tollgate.export_my_data(integer) from public, anon, authenticated, service_role;

grant execute on function tollgate.export_my_data(integer) to authenticated;
