import { randomUUID } from 'node:crypto'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { decodeJwt, SignJWT } from 'jose'
import { expect, inject } from 'vitest'
import { createTollgate, TollgateError, type Tollgate } from '../../packages/client/src/index.ts'
import { gateway, loadFunctions } from '../../packages/local/src/gateway.ts'
import { serveHttp } from '../../packages/local/src/http.ts'
import {
  anonClaims,
  createUser,
  ownerSql,
  serviceRoleClaims,
  type Sql,
  type TestUser,
  type UserOptions,
} from '../helpers/db.ts'
import { createFakePostgrest, type FakePostgrest } from '../helpers/fake-postgrest.ts'
import { it as base } from '../helpers/fixtures.ts'

/** The project's JWT secret in these tests (PostgREST's and the functions' SUPABASE_JWT_SECRET). */
export const JWT_SECRET = 'tollgate-client-tests-jwt-secret-0123456789abcdef'

/** How a client carries the user's token, the three ways supabase-js apps do it. */
export type SignInVia = 'session' | 'accessToken' | 'header'

/** The ways to sign a client in, for `it.each`. */
export const SIGN_IN_WAYS: readonly SignInVia[] = ['session', 'accessToken', 'header']

/** A supabase-js client and the Tollgate calls over it. */
export type Client = { supabase: SupabaseClient; tollgate: Tollgate }

/** A user committed to auth.users, with an access token and a client signed in with it. */
export type Caller = TestUser & Client & { token: string }

/** Supabase's API on a local port: the fake PostgREST at /rest/v1, functions at /functions/v1. */
export type ClientStack = {
  /** The project URL (`http://127.0.0.1:<port>`) the clients are created with. */
  url: string
  /** The anon API key (a JWT with role anon). */
  anonKey: string
  postgrest: FakePostgrest
  /** The owner's pool, for arranging rows as Tollgate's own functions and providers would. */
  sql: Sql
  /** Requests for anything else (Auth, Storage…): the client must never need them. */
  strays: string[]
  signIn: (options?: UserOptions & { via?: SignInVia }) => Promise<Caller>
  /** A client carrying `token` (null: no session, only the anon key). */
  clientFor: (token: string | null, via?: SignInVia) => Client
  close: () => Promise<void>
}

/** An HS256 JWT with these claims (signed with `secret`, default JWT_SECRET). */
export const signToken = (claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret))

const STORAGE_KEY = 'sb-tollgate-test-auth-token'

const memoryStorage = (items: Record<string, string>) => {
  const map = new Map(Object.entries(items))
  return {
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, value),
    removeItem: (key: string) => void map.delete(key),
  }
}

// What Supabase Auth stores after a sign-in; getSession() reads it back without a request.
const sessionOf = (token: string) => {
  const claims = decodeJwt(token)
  return {
    access_token: token,
    refresh_token: `refresh-${randomUUID()}`,
    token_type: 'bearer',
    expires_in: 3600,
    expires_at: claims.exp,
    user: {
      id: claims.sub,
      aud: 'authenticated',
      role: 'authenticated',
      email: claims.email,
      app_metadata: claims.app_metadata,
      user_metadata: claims.user_metadata,
      created_at: new Date().toISOString(),
    },
  }
}

/** supabase-js auth options for a client that keeps no session. */
export const AUTH_OFF = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false }

// Node 20 has no WebSocket, which supabase-js's Realtime wants at createClient; Tollgate uses none.
const noRealtime = function NoRealtime(): never {
  throw new Error('Realtime is not served in these tests')
}
/** supabase-js realtime options: Node 20 has no WebSocket, and the tests never subscribe. */
export const REALTIME = { transport: noRealtime as never }

// PostgREST logs in as `authenticator`; with DATABASE_URL its password is unknown, so the owner.
/** The database URL a fake PostgREST logs in with. */
export const postgrestUrl = (): string => {
  if (inject('externalDatabase')) return inject('databaseUrl')
  const url = new URL(inject('databaseUrl'))
  url.username = 'authenticator'
  return url.toString()
}

// Settings the test process may have that must not reach the functions (blank = unset).
const UNSET = [
  'SUPABASE_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_API_BASE',
  'RAZORPAY_KEY_ID',
  'RAZORPAY_KEY_SECRET',
  'RAZORPAY_WEBHOOK_SECRET',
  'RAZORPAY_API_BASE',
  'TOLLGATE_REDIRECT_ORIGINS',
]

/** Serves the fake PostgREST and the local stack's functions (`env` over theirs); close() after. */
export const startClientStack = async (env: Record<string, string> = {}): Promise<ClientStack> => {
  const sql = ownerSql()
  const postgrest = createFakePostgrest({ databaseUrl: postgrestUrl(), jwtSecret: JWT_SECRET })
  const functions = gateway(await loadFunctions(), {
    ...Object.fromEntries(UNSET.map((name) => [name, ''])),
    DATABASE_URL: inject('databaseUrl'),
    SUPABASE_JWT_SECRET: JWT_SECRET,
    ...env,
  })
  const strays: string[] = []
  const http = await serveHttp(
    async (request) => {
      const { pathname } = new URL(request.url)
      if (pathname.startsWith('/rest/v1/')) return postgrest.fetch(request)
      if (pathname.startsWith('/functions/v1/')) return functions(request)
      strays.push(`${request.method} ${pathname}`)
      return Response.json({ message: `${pathname} is not served in these tests` }, { status: 404 })
    },
    { port: 0 },
  )
  const anonKey = await signToken(anonClaims())
  const users: string[] = []

  const clientFor = (token: string | null, via: SignInVia = 'session'): Client => {
    let supabase: SupabaseClient
    if (token === null) {
      supabase = createClient(http.url, anonKey, { auth: AUTH_OFF, realtime: REALTIME })
    } else if (via === 'accessToken') {
      supabase = createClient(http.url, anonKey, {
        accessToken: async () => token,
        realtime: REALTIME,
      })
    } else if (via === 'header') {
      supabase = createClient(http.url, anonKey, {
        auth: AUTH_OFF,
        realtime: REALTIME,
        global: { headers: { Authorization: `Bearer ${token}` } },
      })
    } else {
      supabase = createClient(http.url, anonKey, {
        realtime: REALTIME,
        auth: {
          ...AUTH_OFF,
          persistSession: true,
          storageKey: STORAGE_KEY,
          storage: memoryStorage({ [STORAGE_KEY]: JSON.stringify(sessionOf(token)) }),
        },
      })
    }
    return { supabase, tollgate: createTollgate(supabase) }
  }

  return {
    url: http.url,
    anonKey,
    postgrest,
    sql,
    strays,
    clientFor,
    signIn: async ({ via, ...options } = {}) => {
      const user = await createUser(sql, options)
      users.push(user.id)
      const token = await signToken(user.claims)
      return { ...user, token, ...clientFor(token, via) }
    },
    close: async () => {
      // Subscriptions first: their delete trigger re-syncs the counters of a user that must exist.
      await sql`delete from tollgate.invoices where user_id = any(${users}::uuid[])`
      await sql`delete from tollgate.subscriptions where user_id = any(${users}::uuid[])`
      await sql`delete from auth.users where id = any(${users}::uuid[])`
      await Promise.all([http.stop(), postgrest.close(), sql.end()])
    },
  }
}

/** The shared fixtures plus `stack`: a client stack with default settings, one per file. */
export const it = base.extend('stack', { scope: 'file' }, async ({}, { onCleanup }) => {
  const stack = await startClientStack()
  onCleanup(() => stack.close())
  return stack
})

/** A supabase-js client that sends `token` to this fake PostgREST alone, `schema` its default. */
export const clientOfFake = async (
  postgrest: FakePostgrest,
  token: string,
  schema: string,
): Promise<SupabaseClient<any, any, any>> =>
  createClient('http://fake-postgrest.test', await signToken(anonClaims()), {
    auth: AUTH_OFF,
    realtime: REALTIME,
    db: { schema },
    global: {
      headers: { Authorization: `Bearer ${token}` },
      fetch: (input, init) => postgrest.fetch(new Request(input, init)),
    },
  })

/** The service_role API key's claims, signed. */
export const serviceKey = (): Promise<string> => signToken(serviceRoleClaims())

/** What a call threw, which must be a TollgateError. */
export const failureOf = async (call: Promise<unknown>): Promise<TollgateError> => {
  try {
    await call
  } catch (error) {
    expect(error).toBeInstanceOf(TollgateError)
    return error as TollgateError
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/** An active internal subscription of the user to `planId` for one month, as Tollgate writes it. */
export const subscribe = async (
  sql: Sql,
  userId: string,
  planId = 'pro',
  status = 'active',
): Promise<string> => {
  const [row] = await sql<{ id: string }[]>`
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end,
      canceled_at, ended_at
    ) values (
      ${userId}::uuid, ${planId}, ${status}, 'internal', now(), now() + interval '1 month',
      ${status === 'canceled' ? sql`now()` : null}, ${status === 'canceled' ? sql`now()` : null}
    )
    returning id::text`
  if (!row) throw new Error('no subscription inserted')
  return row.id
}

/** A paid invoice of the user, created `ago` (an interval) before now, as providers write them. */
export const invoice = async (sql: Sql, userId: string, ago: string): Promise<string> => {
  const [row] = await sql<{ id: string }[]>`
    insert into tollgate.invoices (
      user_id, provider, number, status, currency, amount_due, amount_paid, created_at
    ) values (
      ${userId}::uuid, 'internal', ${`INV-${randomUUID().slice(0, 8)}`}, 'paid', 'usd', 2900, 2900,
      now() - ${ago}::interval
    )
    returning id::text`
  if (!row) throw new Error('no invoice inserted')
  return row.id
}
