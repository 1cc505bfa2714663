-- plpgsql, not sql: a SQL function with a pinned search_path is never inlined and is parsed and
-- planned again wherever it is evaluated (a check constraint or a trigger condition: ~30 us a
-- statement); plpgsql keeps its compiled body. Still immutable, so the planner folds it the same.
-- The one home of the live statuses. Immutable with no arguments, so the planner folds each call
-- into a constant array when it plans a query: `status = any (tollgate_private.live_statuses())` is
-- the same plan as the literal list, and it is what subscriptions_one_live_per_user's predicate says.
create function tollgate_private.live_statuses()
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  return array['trialing', 'active', 'past_due', 'unpaid', 'paused']::text[];
end;
$$;

comment on function tollgate_private.live_statuses() is
  E'The statuses of a live subscription (trialing, active, past_due, unpaid, paused): at most one per user, and it is the user''s subscription. Changing the list changes the predicate of the unique index subscriptions_one_live_per_user: the same migration must reindex it (tests/schema/the_live_status_list_has_one_home.test.ts checks).';

revoke all on function tollgate_private.live_statuses() from public, anon, authenticated, service_role;

-- The predicate of subscriptions_one_live_per_user calls it, and Postgres evaluates an index
-- predicate as the role that reads or writes the table: the roles that read subscriptions.
grant execute on function tollgate_private.live_statuses() to authenticated, service_role;
