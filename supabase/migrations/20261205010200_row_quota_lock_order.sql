-- The row-quota trigger locks an owner's counters in metric order, as sync_usage_counters does, the
-- first time a transaction counts for them: counting in statement order deadlocked with a plan
-- change (REVIEW L-1).
-- Same text as the file in sql/ named below; `create or replace` keeps privileges and comments.

-- ==== sql/0530_function_tg__enforce_row_quota.sql
create or replace function tollgate_private.tg__enforce_row_quota()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_metric text := tg_argv[0];
  v_owner_column text := coalesce(tg_argv[1], 'user_id');
  v_new_owner uuid;
  v_old_owner uuid;
  v_result jsonb;
  v_owner uuid;
begin
  if v_metric is null then
    perform tollgate_private.raise_error('TGCFG',
      'tg__enforce_row_quota needs the metric as its first argument',
      hint => 'create trigger ... execute function tollgate_private.tg__enforce_row_quota(''projects'', ''user_id'')');
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new_owner := (to_jsonb(new) ->> v_owner_column)::uuid;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    v_old_owner := (to_jsonb(old) ->> v_owner_column)::uuid;
  end if;
  if tg_op = 'UPDATE' and v_new_owner is not distinct from v_old_owner then
    return null;
  end if;
  if tg_op <> 'DELETE' and v_new_owner is null then
    perform tollgate_private.raise_error('NOOWN',
      format('A row counted against metric %s needs an owner in column %s', v_metric, v_owner_column));
  end if;

  foreach v_owner in array array[v_old_owner, v_new_owner] loop
    if v_owner is not null
      and v_owner::text is distinct from pg_catalog.current_setting('tollgate.row_quota_locked_user', true) then
      -- First count for this owner in the transaction: lock all their counters in metric order, as sync_usage_counters does, or rows counted in statement order (storage_gb, then projects) deadlock with a plan change; row locks, so bulk inserts for thousands of users never fill the shared lock table.
      perform from tollgate_private.usage_counters c
      where c.user_id = v_owner
      order by c.metric
      for update;
      perform pg_catalog.set_config('tollgate.row_quota_locked_user', v_owner::text, true);
    end if;
  end loop;

  -- Give back first (an owner change moves one unit from the old owner to the new one). Only
  -- gauges give back: a metric that resets counts creations, not rows that exist.
  if v_old_owner is not null and exists (
    select from tollgate_private.usage_counters c
    where c.user_id = v_old_owner and c.metric = v_metric and c.period = 'never'
  ) then
    perform tollgate_private.release_usage(v_old_owner, v_metric, 1, null, now());
  end if;

  if v_new_owner is not null then
    v_result := tollgate_private.consume_usage(v_new_owner, v_metric, 1, null, now());
    if not (v_result ->> 'allowed')::boolean then
      perform tollgate_private.raise_error('QUOTA',
        format('Quota for %s is used up (%s of %s)', v_metric, v_result ->> 'used', v_result ->> 'quota'),
        detail => v_result::text,
        hint => 'Upgrade the plan or remove something first.');
    end if;
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg__enforce_row_quota() is
  E'Trigger for an app''s own table: counts each new row against its owner''s quota of a metric, refuses the insert past the limit (QUOTA), and gives the unit back on delete. Arguments: metric, owner column (default user_id). Attach AFTER INSERT OR DELETE OR UPDATE OF <owner column>, FOR EACH ROW. The first row counted for an owner locks all of that owner''s counters, in metric order, until the transaction ends.';

revoke all on function tollgate_private.tg__enforce_row_quota() from public, anon, authenticated, service_role;
