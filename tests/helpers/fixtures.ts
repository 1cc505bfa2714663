/**
 * vitest fixtures for database tests: import `it` (or `test`) from here instead of from 'vitest'
 * and ask for what the test needs by name; nothing is opened until a test (or a `test.beforeAll`)
 * destructures it, and everything is closed or deleted again without an `afterAll`.
 *
 * - `sql`: a pool on the test database as the owner role (`ownerSql()`), one per worker, ended
 *   when the worker is torn down. Never assert RLS through it: use `asUser(sql, …)` and friends.
 * - `users`: `users.create(options)` commits a user to auth.users; every user a file made this way
 *   is deleted after the file's last test (one per file).
 * - `user`: a fresh committed user for this one test (`{ id, email, claims }`), made by `users`.
 * - `admin`: the same, with `app_metadata.role` = 'admin'.
 *
 * ```ts
 * import { describe, expect } from 'vitest'
 * import { it } from '../../helpers/fixtures.ts'
 *
 * it('shows the caller their own subscription', async ({ sql, user }) => {
 *   await asUser(sql, user, async (tx) => { … })
 * })
 * ```
 * Suite hooks get the pool and the user list too: `it.beforeAll(async ({ sql, users }) => …)`.
 */
import { test as base } from 'vitest'
import { ownerSql, testUsers } from './db.ts'

/** vitest's `test` with the `sql`, `users`, `user` and `admin` fixtures. */
export const test = base
  .extend('sql', { scope: 'worker' }, async ({}, { onCleanup }) => {
    const sql = ownerSql()
    onCleanup(() => sql.end())
    return sql
  })
  .extend('users', { scope: 'file' }, async ({ sql }, { onCleanup }) => {
    const users = testUsers(sql)
    onCleanup(() => users.drop())
    return users
  })
  .extend('user', async ({ users }) => users.create())
  .extend('admin', async ({ users }) => users.create({ admin: true }))

/** The same as `test`. */
export const it = test
