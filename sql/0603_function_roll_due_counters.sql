create function tollgate_private.roll_due_counters(
  as_of timestamptz default now(),
  batch_size integer default 1000,
  after_user_id uuid default null,
  after_metric text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_due refcursor;
  v_counter record;
  v_entitlement record;
  v_counters integer := 0;
  v_last_user_id uuid := roll_due_counters.after_user_id;
  v_last_metric text := roll_due_counters.after_metric;
  v_more boolean := false;
begin
  if roll_due_counters.batch_size is null or roll_due_counters.batch_size < 1 then
    raise exception 'batch_size must be at least 1' using errcode = '22023';
  end if;

  -- The batch: the next due counters in (user_id, metric) order, so one user's counters are locked
  -- in metric order as sync_usage_counters locks them. Each stays locked only until the caller's transaction ends. A counter in
  -- use right now is skipped: its own next consume rolls it lazily. Two queries so that the one
  -- with a key starts its index scan there (keyset paging, no rescan of the batches before).
  if roll_due_counters.after_user_id is null then
    open v_due for
      select c.user_id, c.metric, c.plan_id
      from tollgate_private.usage_counters c
      where c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of
      order by c.user_id, c.metric
      limit roll_due_counters.batch_size
      for update skip locked;
  else
    open v_due for
      select c.user_id, c.metric, c.plan_id
      from tollgate_private.usage_counters c
      where (c.user_id, c.metric) > (roll_due_counters.after_user_id, coalesce(roll_due_counters.after_metric, ''))
        and (c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of)
      order by c.user_id, c.metric
      limit roll_due_counters.batch_size
      for update skip locked;
  end if;

  -- Roll ended periods and re-check plans whose entitlement ran out, as a lazy consume would.
  loop
    fetch v_due into v_counter;
    exit when not found;
    select e.* into v_entitlement from tollgate_private.entitlement(v_counter.user_id, roll_due_counters.as_of) e;
    perform tollgate_private.refresh_usage_counter(
      v_counter.user_id, v_counter.metric, roll_due_counters.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, v_counter.plan_id, v_entitlement.paid_until);
    v_counters := v_counters + 1;
    v_last_user_id := v_counter.user_id;
    v_last_metric := v_counter.metric;
  end loop;
  close v_due;

  -- Locked counters do not count towards the limit, so a short batch means none are left after it.
  if v_counters = roll_due_counters.batch_size then
    v_more := exists (
      select from tollgate_private.usage_counters c
      where (c.user_id, c.metric) > (v_last_user_id, v_last_metric)
        and (c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of));
  end if;

  return jsonb_build_object(
    'counters_refreshed', v_counters,
    'more_counters_due', v_more,
    'last_user_id', v_last_user_id,
    'last_metric', v_last_metric
  );
end;
$$;

comment on function tollgate_private.roll_due_counters(timestamptz, integer, uuid, text) is
  E'One batch of the counter part of maintenance at as_of: locks at most batch_size due counters (period ended or plan to re-check) after the key (after_user_id, after_metric), in (user_id, metric) order, skipping counters in use, and rolls each as the next consume would. Returns counters_refreshed, more_counters_due and the key to continue after (last_user_id, last_metric). The locks last until the caller''s transaction ends, so callers commit after each batch (tollgate_private.maintain does).';

revoke all on function tollgate_private.roll_due_counters(timestamptz, integer, uuid, text) from public, anon, authenticated, service_role;
