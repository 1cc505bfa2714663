create function tollgate_private.require_reason(reason text)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if require_reason.reason is null or length(btrim(require_reason.reason)) = 0
    or length(require_reason.reason) > 500 then
    perform tollgate_private.raise_error('BADRQ', 'A reason (1 to 500 characters) is required',
      hint => 'Say why, for the audit log: e.g. "support ticket 4711: refund of a double charge".');
  end if;
end;
$$;

comment on function tollgate_private.require_reason(text) is
  E'Raises BADRQ (400) unless reason has 1 to 500 characters besides blanks: every admin action is audited with one.';

revoke all on function tollgate_private.require_reason(text) from public, anon, authenticated, service_role;
