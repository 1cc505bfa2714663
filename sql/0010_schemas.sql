-- Tollgate's two schemas. Nothing of ours goes into public: the host app owns it.
create schema tollgate;
create schema tollgate_private;

comment on schema tollgate is
  E'Tollgate billing API: plans, subscriptions, invoices and usage that client apps read under row-level security, and the functions they call.';
comment on schema tollgate_private is
  E'Tollgate internals, never exposed over the API: provider ids, usage counters and ledger, coupons, webhook events, audit log, and the security-definer functions behind the API.';

-- Start from nothing and grant object by object. (A per-schema default privilege cannot take
-- away PUBLIC's built-in execute on functions, so every function file revokes it itself.)
revoke all on schema tollgate from public;
revoke all on schema tollgate_private from public;

grant usage on schema tollgate to anon, authenticated, service_role;
-- Only so that API roles can execute the few private functions granted to them by name.
grant usage on schema tollgate_private to authenticated, service_role;
