import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations } from '../../packages/db/src/migrate.ts'
import { createScratchDatabase, type ScratchDatabase } from '../helpers/db.ts'
import {
  post,
  refusedStart,
  type Stack,
  stackEnv,
  startStack,
  tempDataDir,
  token,
} from './local-stack.ts'

let scratch: ScratchDatabase
let sql: postgres.Sql
let data: Awaited<ReturnType<typeof tempDataDir>>
let env: NodeJS.ProcessEnv
let stack: Stack | undefined
const email = `local-${randomUUID().slice(0, 8)}@example.test`
let userId: string

beforeAll(async () => {
  // Bootstrapped like a Supabase database (auth exists), nothing of ours applied yet.
  scratch = await createScratchDatabase()
  sql = postgres(scratch.url, { max: 1, onnotice: () => {} })
  data = await tempDataDir()
  env = stackEnv({ TOLLGATE_DATA_DIR: data.dir, DATABASE_URL: scratch.url })
})

afterAll(async () => {
  await stack?.stop('SIGKILL')
  await sql?.end()
  await scratch?.drop()
  await data?.remove()
})

describe('npm start on DATABASE_URL', () => {
  it('applies the migrations and the seed to the database, then serves the functions', async () => {
    stack = await startStack(env)
    const versions = await sql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations order by version`
    expect(versions.map((row) => row.version)).toEqual(
      (await listMigrations()).map((m) => m.version),
    )
    const plans = await sql<{ id: string }[]>`select id from tollgate.plans order by sort_order`
    expect(plans.map((plan) => plan.id)).toEqual(['free', 'pro', 'enterprise'])
  })

  it('accepts a token from npm run token for a user it created in auth.users', async () => {
    const { jwt, claims } = await token(env, email)
    userId = String(claims.sub)
    expect(await sql`select id::text from auth.users where email = ${email}`).toEqual([
      { id: userId },
    ])
    const checkout = await post(`${stack?.functions}/billing/checkout`, jwt, { plan_id: 'free' })
    expect(checkout).toEqual({ status: 200, body: { subscription: null } })
    const stripe = await post(`${stack?.functions}/billing/checkout`, jwt, {
      plan_id: 'pro',
      provider: 'stripe',
    })
    expect(stripe.status).toBe(503)
    expect(stripe.body).toMatchObject({ code: 'NOCFG', details: { missing: 'STRIPE_SECRET_KEY' } })
  })

  it('stops on SIGTERM with exit code 0 and finds the same user after a restart', async () => {
    expect(await stack?.stop('SIGTERM')).toBe(0)
    stack = await startStack(env)
    const { jwt, claims } = await token(env, email)
    expect(claims.sub).toBe(userId)
    const checkout = await post(`${stack.functions}/billing/checkout`, jwt, { plan_id: 'free' })
    expect(checkout).toEqual({ status: 200, body: { subscription: null } })
    expect(await stack.stop('SIGTERM')).toBe(0)
    stack = undefined
  })

  it('refuses --reset, which only starts the embedded database over (exit code 2)', async () => {
    expect((await refusedStart(env, ['--reset'])).code).toBe(2)
    expect(await sql`select id::text from auth.users where email = ${email}`).toEqual([
      { id: userId },
    ])
  })
})
