import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { inject } from 'vitest'
import { applyBootstrap } from '../../packages/db/src/migrate.ts'

/** A postgres.js pool. */
export type Sql = postgres.Sql

/** The transaction handle the helpers pass to their callback. */
export type Tx = postgres.TransactionSql

/** Something queries can run on: a pool or a transaction. */
export type Queryable = Sql | Tx

/** JWT claims as Supabase Auth issues them; `role` picks the database role, as PostgREST does. */
export type Claims = { role: string; [claim: string]: unknown }

/** A user committed to auth.users, with the claims of a fresh session. */
export type TestUser = { id: string; email: string; claims: Claims }

/** A user id, a TestUser, or claims with at least `sub` (merged over a default session's claims). */
export type UserRef = string | TestUser | ({ sub: string } & Record<string, unknown>)

/** `commit: true` keeps what the callback did; by default the transaction is rolled back. */
export type TxOptions = { commit?: boolean }

/** What a test may pass to `userClaims` and `createUser`. */
export type UserOptions = {
  email?: string
  admin?: boolean
  userMetadata?: Record<string, unknown>
}

const ISSUER = 'http://127.0.0.1:54321/auth/v1'
const INSTANCE_ID = '00000000-0000-0000-0000-000000000000'

const poolOptions = {
  max: 20,
  onnotice: () => {},
  // Supabase's transaction pooler (Supavisor, port 6543) does not support prepared statements.
  prepare: false,
  connection: { application_name: 'tollgate-tests' },
}

/** A pool on the test database as the owner role (`postgres`); end it in `afterAll`. */
export const ownerSql = (options: postgres.Options<{}> = {}): Sql =>
  postgres(inject('databaseUrl'), { ...poolOptions, ...options })

/** A pool on the test database as a superuser; never assert RLS through it. */
export const superSql = (options: postgres.Options<{}> = {}): Sql =>
  postgres(inject('superuserUrl'), { ...poolOptions, ...options })

const epoch = (): number => Math.floor(Date.now() / 1000)

const emailFor = (id: string): string => `user-${id.slice(0, 8)}@example.test`

/** Claims of a signed-in user as Supabase Auth puts them in the access token. */
export const userClaims = (id: string, options: UserOptions = {}): Claims => {
  const iat = epoch()
  return {
    iss: ISSUER,
    sub: id,
    aud: 'authenticated',
    exp: iat + 3600,
    iat,
    email: options.email ?? emailFor(id),
    phone: '',
    app_metadata: {
      provider: 'email',
      providers: ['email'],
      ...(options.admin ? { role: 'admin' } : {}),
    },
    user_metadata: options.userMetadata ?? {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: iat }],
    session_id: randomUUID(),
    is_anonymous: false,
  }
}

const apiKeyClaims = (role: string): Claims => {
  const iat = epoch()
  return { iss: 'supabase', ref: 'tollgate-test', role, iat, exp: iat + 3600 }
}

/** Claims of the anon API key. */
export const anonClaims = (): Claims => apiKeyClaims('anon')

/** Claims of the service_role API key. */
export const serviceRoleClaims = (): Claims => apiKeyClaims('service_role')

// Thrown to make postgres.js roll the transaction back; never escapes this module.
class Rollback extends Error {}

const inTransaction = async <T>(
  sql: Sql,
  options: TxOptions,
  fn: (tx: Tx) => T,
  setup?: (tx: Tx) => Promise<unknown>,
): Promise<Awaited<T>> => {
  let result: { value: Awaited<T> } | undefined
  try {
    await sql.begin(async (tx) => {
      if (setup) await setup(tx)
      result = { value: await fn(tx) }
      if (!options.commit) throw new Rollback()
    })
  } catch (error) {
    if (!(error instanceof Rollback)) throw error
  }
  if (!result) throw new Error('transaction ended without a result')
  return result.value
}

/** Runs `fn` in one transaction as PostgREST runs a request with these claims (role from `claims.role`); rolled back unless `commit`. */
export const asClaims = <T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: Tx) => T,
  options: TxOptions = {},
): Promise<Awaited<T>> =>
  inTransaction(sql, options, fn, (tx) =>
    tx`
      select
        pg_catalog.set_config('role', ${claims.role}, true),
        pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`.execute(),
  )

const claimsOf = (user: UserRef, options: UserOptions = {}): Claims => {
  if (typeof user === 'string') return userClaims(user, options)
  if ('claims' in user && typeof user.claims === 'object') {
    const known = user as TestUser
    return options.admin ? userClaims(known.id, { email: known.email, ...options }) : known.claims
  }
  const claims = user as { sub: string } & Record<string, unknown>
  return { ...userClaims(claims.sub, options), ...claims }
}

/** Runs `fn` as the anon API key (role anon); rolled back unless `commit`. */
export const asAnon = <T>(
  sql: Sql,
  fn: (tx: Tx) => T,
  options: TxOptions = {},
): Promise<Awaited<T>> => asClaims(sql, anonClaims(), fn, options)

/** Runs `fn` as a signed-in user (role authenticated, `auth.uid()` = the user); rolled back unless `commit`. */
export const asUser = <T>(
  sql: Sql,
  user: UserRef,
  fn: (tx: Tx) => T,
  options: TxOptions = {},
): Promise<Awaited<T>> => asClaims(sql, claimsOf(user), fn, options)

/** Runs `fn` as a signed-in admin (`app_metadata.role` = 'admin'); rolled back unless `commit`. */
export const asAdmin = <T>(
  sql: Sql,
  user: string | TestUser,
  fn: (tx: Tx) => T,
  options: TxOptions = {},
): Promise<Awaited<T>> => asClaims(sql, claimsOf(user, { admin: true }), fn, options)

/** Runs `fn` as the service_role API key (bypasses RLS); rolled back unless `commit`. */
export const asServiceRole = <T>(
  sql: Sql,
  fn: (tx: Tx) => T,
  options: TxOptions = {},
): Promise<Awaited<T>> => asClaims(sql, serviceRoleClaims(), fn, options)

/** Runs `fn` in a transaction as the pool's own role and rolls it back; returns fn's result. */
export const withRollback = <T>(sql: Sql, fn: (tx: Tx) => T): Promise<Awaited<T>> =>
  inTransaction(sql, {}, fn)

/** Inserts a confirmed email user into auth.users (committed unless `sql` is a transaction). */
export const createUser = async (
  sql: Queryable,
  options: UserOptions & { id?: string } = {},
): Promise<TestUser> => {
  const id = options.id ?? randomUUID()
  const email = options.email ?? emailFor(id)
  const claims = userClaims(id, { ...options, email })
  await sql`
    insert into auth.users (
      id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    ) values (
      ${id}, ${INSTANCE_ID}, 'authenticated', 'authenticated', ${email}, '', now(),
      ${JSON.stringify(claims.app_metadata)}::jsonb, ${JSON.stringify(claims.user_metadata)}::jsonb,
      now(), now()
    )`
  return { id, email, claims }
}

/** Users made for one test file, deleted again (with what cascades from them) by `drop`. */
export type TestUsers = {
  create: (options?: UserOptions) => Promise<TestUser>
  drop: () => Promise<void>
}

/** Tracks the users a file creates on `sql`, so one `drop` at the end deletes them all. */
export const testUsers = (sql: Sql): TestUsers => {
  const ids: string[] = []
  return {
    create: async (options: UserOptions = {}): Promise<TestUser> => {
      const user = await createUser(sql, options)
      ids.push(user.id)
      return user
    },
    drop: async (): Promise<void> => {
      if (ids.length === 0) return
      await sql.begin(async (tx) => {
        await tx`delete from auth.users where id in ${tx(ids)}`
        // Deleting a user queues the cancellation of their live Stripe subscriptions. This shared
        // database serves many test files, each with its own fake Stripe: another file's outbox
        // run must not call its fake about our subscriptions, so the actions this cleanup queued go.
        await tx`delete from tollgate_private.provider_actions where reason = 'user deleted' and created_at = now()`
      })
    },
  }
}

/** Awaits a query that must fail and returns the driver's error (with its SQLSTATE `code`) unwrapped. */
export const pgError = async (query: PromiseLike<unknown>): Promise<postgres.PostgresError> => {
  try {
    await query
  } catch (error) {
    if (error instanceof postgres.PostgresError) return error
    throw error
  }
  throw new Error('expected the query to fail, but it succeeded')
}

/** A fresh database for tests that need their own (migration tests); `drop()` removes it. */
export type ScratchDatabase = {
  name: string
  /** As the owner role `postgres` (cluster) or DATABASE_URL's user. */
  url: string
  superuserUrl: string
  drop: () => Promise<void>
}

const onDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** Creates an empty database (bootstrapped for Supabase unless `bootstrap: false`) beside the test database. */
export const createScratchDatabase = async (
  options: { bootstrap?: boolean } = {},
): Promise<ScratchDatabase> => {
  const name = `tollgate_scratch_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(inject('adminServerUrl'), { max: 1, onnotice: () => {} })
  const drop = async (): Promise<void> => {
    await admin`drop database if exists ${admin(name)} with (force)`
    await admin.end()
  }
  await admin`create database ${admin(name)}`
  const scratch = {
    name,
    url: onDatabase(inject('databaseUrl'), name),
    superuserUrl: onDatabase(inject('superuserUrl'), name),
    drop,
  }
  if (options.bootstrap ?? true) {
    const sql = postgres(scratch.superuserUrl, { max: 1, onnotice: () => {} })
    try {
      await applyBootstrap(sql)
    } catch (error) {
      await sql.end()
      await drop()
      throw error
    }
    await sql.end()
  }
  return scratch
}
