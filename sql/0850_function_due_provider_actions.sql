create function tollgate_private.due_provider_actions(max_count integer, as_of timestamptz)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  -- No lock is taken: two functions running the same action at once is harmless, the provider
  -- call carries the action's id as its Idempotency-Key.
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', a.id, 'provider', a.provider, 'action', a.action,
      'provider_object_id', a.provider_object_id, 'attempts', a.attempts)
    order by a.next_attempt_at), '[]'::jsonb)
  from (
    select pa.* from tollgate_private.provider_actions pa
    where pa.state = 'pending' and pa.next_attempt_at <= due_provider_actions.as_of
    order by pa.next_attempt_at
    limit greatest(due_provider_actions.max_count, 0)
  ) a
$$;

comment on function tollgate_private.due_provider_actions(integer, timestamptz) is
  E'The pending provider actions due at as_of (at most max_count, oldest first), as a JSON array of {id, provider, action, provider_object_id, attempts}: what a function must call the provider for.';

revoke all on function tollgate_private.due_provider_actions(integer, timestamptz) from public, anon, authenticated, service_role;
