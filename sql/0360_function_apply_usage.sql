create function tollgate_private.apply_usage(user_id uuid, metric text, delta bigint, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row tollgate_private.usage_counters;
  v_entitlement record;
  v_baseline text;
  v_key bigint;
  v_my_turn boolean;
  v_locked boolean := false;
  v_room bigint;
  v_take bigint;
  v_need bigint;
  v_credits bigint;
begin
  if apply_usage.delta > 0 then
    -- Signed-in callers (PostgREST's role authenticated) of one counter queue on an advisory lock,
    -- woken one at a time, rather than on the counter's row, whose wait-and-recheck costs several
    -- times the CPU under contention (a user whose workers all consume at once). A queue, not the
    -- guard: the update below is atomic alone. Such a request writes only its caller's counters;
    -- triggers, the service role and the owner (batches over many users) queue on the rows, so one
    -- transaction never fills the shared lock table (about 64 locks per connection).
    if pg_catalog.current_setting('role') = 'authenticated' and pg_catalog.pg_trigger_depth() = 0 then
      v_key := pg_catalog.hashtextextended(
        'tollgate.counter:' || apply_usage.user_id::text || ':' || apply_usage.metric, 0);
      v_my_turn := pg_catalog.pg_try_advisory_xact_lock(v_key);
    else
      v_my_turn := true;
    end if;
    loop
      if v_my_turn then
        -- FAST PATH: one conditional update. The row lock and the re-check of the WHERE clause on
        -- the newest row version make it atomic: no concurrency can take used past quota.
        update tollgate_private.usage_counters c
        set used = c.used + apply_usage.delta,
            updated_at = now()
        where c.user_id = apply_usage.user_id
          and c.metric = apply_usage.metric
          and (c.period_end is null or c.period_end > apply_usage.as_of)
          and (c.valid_until is null or c.valid_until > apply_usage.as_of)
          -- Subtractions, never used + delta: no amount can overflow bigint (22003); an unlimited
          -- counter still stops at bigint's largest value.
          and (c.quota = -1 and apply_usage.delta <= 9223372036854775807 - c.used
            or c.quota <> -1 and apply_usage.delta <= c.quota - c.used)
        returning c.* into v_row;
        if found then
          -- A count that crosses 80 % (used >= quota - floor(quota / 5), i.e. ceil(0.8 quota), no
          -- overflow) or 100 % notifies; no other count writes anything more. Row locks order the
          -- counts, so exactly one crosses each line (both at once: exhausted only).
          if v_row.quota > 0 and v_row.used >= v_row.quota - v_row.quota / 5
            and (v_row.used - apply_usage.delta < v_row.quota - v_row.quota / 5
              or v_row.used >= v_row.quota and v_row.used - apply_usage.delta < v_row.quota) then
            perform tollgate_private.notify_quota(v_row,
              case when v_row.used >= v_row.quota then 'quota_exhausted' else 'quota_warning' end);
          end if;
          -- A user without credits (the hint is false) costs no credit lookup. The hint is not
          -- cleared here: a second update of the row this transaction just wrote would run the
          -- plan_id foreign-key check (a key-share lock on the plan row) on every such call.
          return tollgate_private.usage_answer(true, apply_usage.metric, v_row,
            case when v_row.may_have_credits
              then tollgate_private.usable_credits(apply_usage.user_id, apply_usage.metric, apply_usage.as_of)
              else 0 end);
        end if;
      end if;

      -- REFUSAL without a lock: a current counter without room answers at once, so a user
      -- hammering an exhausted quota neither queues nor writes, unless they may hold credits.
      select c.* into v_row
      from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
      if v_row.user_id is not null
        and (v_row.period_end is null or v_row.period_end > apply_usage.as_of)
        and (v_row.valid_until is null or v_row.valid_until > apply_usage.as_of)
        and apply_usage.delta
          > (case when v_row.quota = -1 then 9223372036854775807 else v_row.quota end) - v_row.used then
        if not v_row.may_have_credits then
          -- No credits (the hint is false): the refusal as it was, one test more.
          if v_row.quota > 0 and v_row.used < v_row.quota then
            -- A first refusal below 100 % exhausts the quota for this caller (once per period).
            perform tollgate_private.notify_quota(v_row, 'quota_exhausted');
          end if;
          return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
        end if;
        -- Credits can only pay the part of a limited quota it cannot take; read them without a
        -- lock too (an index probe), so a refusal still neither queues nor writes.
        v_credits := tollgate_private.usable_credits(apply_usage.user_id, apply_usage.metric, apply_usage.as_of);
        if v_row.quota = -1 or v_credits < apply_usage.delta - greatest(v_row.quota - v_row.used, 0) then
          if v_row.quota > 0 and v_row.used < v_row.quota then
            perform tollgate_private.notify_quota(v_row, 'quota_exhausted');
          end if;
          return tollgate_private.usage_answer(false, apply_usage.metric, v_row, v_credits);
        end if;
        if v_my_turn then
          -- CREDITS may pay what the quota cannot. Lock the counter row first (the order every
          -- drawer keeps: counter row, then credit rows), then decide below on the locked row.
          select c.* into v_row
          from tollgate_private.usage_counters c
          where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
          for update;
          -- Rolled or due for a re-check meanwhile: the slow path brings it up to date first.
          v_locked := v_row.user_id is not null
            and (v_row.period_end is null or v_row.period_end > apply_usage.as_of)
            and (v_row.valid_until is null or v_row.valid_until > apply_usage.as_of);
          exit;
        end if;
        -- Not our turn yet: queue below like any consumer, then try again.
      end if;

      -- Neither counted nor refused after our turn: the slow path below decides.
      exit when v_my_turn;
      -- The lock was busy. Wait for it, unless this transaction already holds the row (written
      -- before by a release, a plan change...): the lock's holder may be waiting for that row, and
      -- we would deadlock.
      perform from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
      for no key update skip locked;
      if not found then
        perform pg_catalog.pg_advisory_xact_lock(v_key);
      end if;
      v_my_turn := true;
    end loop;
  else
    -- Releases only apply to gauges (never-resetting metrics), and never below zero.
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and c.period = 'never'
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
    returning c.* into v_row;
    if found then
      -- Releases never create credits; they only report the ones held.
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row,
        case when v_row.may_have_credits
          then tollgate_private.usable_credits(apply_usage.user_id, apply_usage.metric, apply_usage.as_of)
          else 0 end);
    end if;
  end if;

  -- SLOW PATH: the counter is missing, its period has ended, or its plan must be checked again.
  if not v_locked then
    -- Holds the user (FOR KEY SHARE) until commit: the usage ledger has no foreign key (0230), and
    -- a call that ends here without a counter row (a release of a metric the plan lacks) still
    -- writes a ledger row; a deletion of the user waits for it, then forget_user removes the row.
    perform from auth.users u where u.id = apply_usage.user_id for key share;
    if not found then
      perform tollgate_private.raise_error('NOUSR', format('Unknown user %s', apply_usage.user_id),
        hint => 'The user must exist in auth.users.');
    end if;
    if not exists (select from tollgate.plan_limits l where l.metric = apply_usage.metric)
      and not exists (
        select from tollgate_private.usage_counters c
        where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
      ) then
      perform tollgate_private.raise_error('NOMET', format('Unknown metric %s', apply_usage.metric),
        hint => 'Metrics are the ones named in tollgate.plan_limits.');
    end if;

    select e.* into v_entitlement from tollgate_private.entitlement(apply_usage.user_id, apply_usage.as_of) e;
    select c.plan_id into v_baseline
    from tollgate_private.usage_counters c
    where c.user_id = apply_usage.user_id
    limit 1;

    v_row := tollgate_private.refresh_usage_counter(
      apply_usage.user_id, apply_usage.metric, apply_usage.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, v_entitlement.plan_id),
      v_entitlement.paid_until);

    if v_row.user_id is null then
      -- The metric exists, but not on this user's plan: quota 0.
      return tollgate_private.usage_answer(apply_usage.delta < 0, apply_usage.metric, null);
    end if;

    if apply_usage.delta < 0 then
      if v_row.period <> 'never' then
        perform tollgate_private.raise_error('GAUGE',
          format('Only never-resetting metrics can be released; %s resets every %s',
            apply_usage.metric, v_row.period),
          hint => 'Usage of a resetting metric is not given back.');
      end if;
      update tollgate_private.usage_counters c
      set used = greatest(c.used + apply_usage.delta, 0),
          updated_at = now()
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
      returning c.* into v_row;
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row,
        case when v_row.may_have_credits
          then tollgate_private.usable_credits(apply_usage.user_id, apply_usage.metric, apply_usage.as_of)
          else 0 end);
    end if;
  end if;

  -- DECIDE on the locked, fresh row (refresh_usage_counter or the credit path locked it): the
  -- plan's quota first, the rest from credits; used never passes quota.
  v_room := case
    when v_row.quota = -1 then 9223372036854775807 - v_row.used
    else greatest(v_row.quota - v_row.used, 0)
  end;
  v_take := least(apply_usage.delta, v_room);
  v_need := apply_usage.delta - v_take;
  if v_need > 0 and v_row.may_have_credits and v_row.quota <> -1 then
    v_credits := tollgate_private.draw_credits(apply_usage.user_id, apply_usage.metric, v_need, apply_usage.as_of);
    if v_credits = 0 or v_credits = v_need then
      -- None left (used up now or before, expired, revoked): later calls skip the lookup until a
      -- grant sets the hint again. grant_credits updates this row after its insert, so it waits for us.
      update tollgate_private.usage_counters c
      set may_have_credits = false
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
      v_row.may_have_credits := false;
    end if;
  elsif v_row.may_have_credits then
    v_credits := tollgate_private.usable_credits(apply_usage.user_id, apply_usage.metric, apply_usage.as_of);
    if v_credits = 0 then
      -- None (a new counter starts with the hint set): clear it, as above.
      update tollgate_private.usage_counters c
      set may_have_credits = false
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
      v_row.may_have_credits := false;
    end if;
  else
    v_credits := 0;
  end if;

  if v_need > 0 and (v_row.quota = -1 or v_credits < v_need) then
    -- Refused: neither the quota nor any credit is touched (draw_credits drew nothing).
    if v_row.quota > 0 and v_row.used < v_row.quota then
      perform tollgate_private.notify_quota(v_row, 'quota_exhausted');
    end if;
    return tollgate_private.usage_answer(false, apply_usage.metric, v_row, v_credits);
  end if;
  if v_need > 0 then
    v_credits := v_credits - v_need;
  end if;

  if v_take > 0 then
    update tollgate_private.usage_counters c
    set used = c.used + v_take,
        updated_at = now()
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    returning c.* into v_row;
    if v_row.quota > 0 and v_row.used >= v_row.quota - v_row.quota / 5
      and (v_row.used - v_take < v_row.quota - v_row.quota / 5
        or v_row.used >= v_row.quota and v_row.used - v_take < v_row.quota) then
      perform tollgate_private.notify_quota(v_row,
        case when v_row.used >= v_row.quota then 'quota_exhausted' else 'quota_warning' end);
    end if;
  end if;
  return tollgate_private.usage_answer(true, apply_usage.metric, v_row, v_credits, v_need);
end;
$$;

comment on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) is
  E'Counts delta (positive: consume; negative: release of a gauge, floored at zero) on a user''s counter at as_of, rolling the period or following a plan change first when due. A consume takes the plan''s quota first and, when the quota cannot take it all, what is left of the quota plus the rest from the user''s credits of the metric (draw_credits: not expired at as_of, earliest expiry first); used never passes quota. It is refused, counting nothing and drawing nothing, when quota and credits together cannot cover it; an unlimited quota never touches credits. Concurrent signed-in consumers of one counter queue on a transaction advisory lock keyed ''tollgate.counter:<user>:<metric>''; credits are drawn only under the counter''s row lock. Writes no ledger row: record_usage does (with the credits drawn, answered in credits_drawn).';

revoke all on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;
