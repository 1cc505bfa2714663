create function tollgate_private.grant_credits(
  user_id uuid,
  metric text,
  amount bigint,
  expires_at timestamptz,
  source text,
  purchase_id uuid default null,
  reason text default null
)
returns tollgate.credit_balances
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_grant tollgate.credit_balances;
begin
  if grant_credits.amount is null or grant_credits.amount <= 0 then
    perform tollgate_private.raise_error('BADRQ', 'Credits granted must be a positive number',
      hint => 'Pass amount > 0.');
  end if;
  if not exists (select from tollgate.plan_limits l where l.metric = grant_credits.metric) then
    perform tollgate_private.raise_error('NOMET', format('Unknown metric %s', grant_credits.metric),
      hint => 'Metrics are the ones named in tollgate.plan_limits.');
  end if;
  insert into tollgate.credit_balances (user_id, metric, granted, remaining, expires_at, source, purchase_id, reason)
  values (grant_credits.user_id, grant_credits.metric, grant_credits.amount, grant_credits.amount,
    grant_credits.expires_at, grant_credits.source, grant_credits.purchase_id, grant_credits.reason)
  returning * into v_grant;
  -- After the insert: a consume holding the counter row finishes first, then this sets the hint
  -- on its newest version (never the other way round: consumers lock the counter, then credits).
  -- A counter not made yet starts with the hint set.
  update tollgate_private.usage_counters c
  set may_have_credits = true
  -- No "and not may_have_credits": a consume clearing it at this moment must be waited for.
  where c.user_id = grant_credits.user_id and c.metric = grant_credits.metric;
  return v_grant;
end;
$$;

comment on function tollgate_private.grant_credits(uuid, text, bigint, timestamptz, text, uuid, text) is
  E'Adds credits of a metric for a user: one tollgate.credit_balances row (source purchase with its purchase_id, or admin with a reason), usable until expires_at (null = never). The one way credits are created; it also sets the user''s counter hint (usage_counters.may_have_credits) so consume_usage looks for them.';

revoke all on function tollgate_private.grant_credits(uuid, text, bigint, timestamptz, text, uuid, text) from public, anon, authenticated, service_role;
