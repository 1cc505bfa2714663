create function tollgate_private.finish_provider_action(
  id uuid,
  succeeded boolean,
  error text,
  permanent boolean,
  as_of timestamptz
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  -- done is final: a failed retry that raced a success never undoes it.
  update tollgate_private.provider_actions a
  set state = case
        when finish_provider_action.succeeded then 'done'
        when finish_provider_action.permanent then 'failed'
        else 'pending' end,
      done_at = case when finish_provider_action.succeeded then finish_provider_action.as_of end,
      attempts = a.attempts + case when finish_provider_action.succeeded then 0 else 1 end,
      last_error = case when finish_provider_action.succeeded then a.last_error else left(finish_provider_action.error, 1000) end,
      -- Backs off 1, 2, 4 ... minutes, at most 6 hours.
      next_attempt_at = case when finish_provider_action.succeeded then a.next_attempt_at
        else finish_provider_action.as_of + least(interval '1 minute' * power(2, least(a.attempts, 10)), interval '6 hours') end
  where a.id = finish_provider_action.id and a.state = 'pending'
$$;

comment on function tollgate_private.finish_provider_action(uuid, boolean, text, boolean, timestamptz) is
  E'Records the outcome of a provider action''s call: done; failed for good (permanent: an operator must act); or still pending, retried after a back-off. A finished action is never changed again.';

revoke all on function tollgate_private.finish_provider_action(uuid, boolean, text, boolean, timestamptz) from public, anon, authenticated, service_role;
