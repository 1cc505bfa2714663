create function tollgate_private.consume_usage_of_caller(
  metric text,
  amount bigint,
  idempotency_key text,
  metadata jsonb default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('NOJWT', 'Sign in to consume usage');
  end if;
  -- Anonymous sign-ins cost nothing to make: each one's free quota would be usage for the taking.
  if tollgate_private.is_anonymous() then
    perform tollgate_private.raise_error('ANONY',
      'Anonymous users cannot do this: sign in with an account',
      hint => 'Link an email, phone or OAuth identity to the anonymous user first.');
  end if;
  -- The caller never chooses the time: a client must not move its own period.
  return tollgate_private.consume_usage(
    v_user_id, consume_usage_of_caller.metric, consume_usage_of_caller.amount,
    consume_usage_of_caller.idempotency_key, now(), consume_usage_of_caller.metadata);
end;
$$;

comment on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) is
  E'consume_usage for the signed-in caller (auth.uid()) at the current time; what tollgate.consume_usage runs. Anonymous users (JWT is_anonymous) are refused with ANONY.';

revoke all on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage_of_caller(text, bigint, text, jsonb) to authenticated;
