import type postgres from 'postgres'
import type { Sql } from '../db.ts'

/** A connection holding Tollgate's per-user lock in an open transaction. */
export type UserLock = { pid: number; release: () => Promise<void> }

/**
 * Takes the advisory lock apply_stripe_subscription takes for `userId`, in an open transaction on
 * a reserved connection, so an apply for that user stops there until `release()`.
 */
export const holdUserLock = async (sql: Sql, userId: string): Promise<UserLock> => {
  const connection: postgres.ReservedSql = await sql.reserve()
  await connection`begin`
  await connection`
    select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('tollgate.user:' || ${userId}, 0))`
  const [row] = await connection<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
  return {
    pid: row?.pid ?? -1,
    release: async () => {
      await connection`commit`
      connection.release()
    },
  }
}

/** A backend of the application waiting on a lock. */
export type Waiter = { pid: number; wait_event: string; blocked_by_holder: boolean; query: string }

/**
 * Polls pg_stat_activity until `count` backends of `applicationName` wait on a lock (at most
 * `attempts` × 50 ms); returns them. Waiting, not a timed assertion: the caller asserts what waits.
 */
export const waitForLockWaiters = async (
  sql: Sql,
  applicationName: string,
  holderPid: number,
  count: number,
  attempts = 400,
): Promise<Waiter[]> => {
  for (let i = 0; i < attempts; i++) {
    const waiters = await sql<Waiter[]>`
      select pid, wait_event, ${holderPid}::int = any(pg_catalog.pg_blocking_pids(pid)) as blocked_by_holder,
        query
      from pg_catalog.pg_stat_activity
      where application_name = ${applicationName} and wait_event_type = 'Lock'
      order by pid`
    if (waiters.length >= count) return waiters
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`fewer than ${count} backends of ${applicationName} waited on a lock`)
}
