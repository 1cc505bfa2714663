create function tollgate_private.is_payment_kind(kind text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  return is_payment_kind.kind in (
    'payment_succeeded', 'payment_failed', 'purchase_succeeded', 'payment_refunded', 'dispute_opened');
end;
$$;

comment on function tollgate_private.is_payment_kind(text) is
  E'True for the notification kinds about money that moved: they are emailed whatever the user''s preferences (packages/notifications PAYMENT_KINDS is the same list; a test compares them).';

revoke all on function tollgate_private.is_payment_kind(text) from public, anon, authenticated, service_role;
