import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations } from '../../packages/db/src/migrate.ts'
import { databaseHolder } from '../../packages/local/src/data-dir.ts'
import { post, type Stack, stackEnv, startStack, tempDataDir, token } from './local-stack.ts'

let data: Awaited<ReturnType<typeof tempDataDir>>
let env: NodeJS.ProcessEnv
let stack: Stack | undefined
const email = `local-${randomUUID().slice(0, 8)}@example.test`
let userId: string

beforeAll(async () => {
  data = await tempDataDir()
  env = stackEnv({ TOLLGATE_DATA_DIR: data.dir })
})

afterAll(async () => {
  await stack?.stop('SIGKILL')
  await data?.remove()
})

/** Runs one query on the embedded database through the running stack's port. */
const query = async <T extends object>(text: string, params: string[] = []): Promise<T[]> => {
  const holder = await databaseHolder(data.dir)
  if (!holder?.databaseUrl) throw new Error('no local stack holds the embedded database')
  const sql = postgres(holder.databaseUrl, { max: 1, prepare: false, onnotice: () => {} })
  try {
    return [...(await sql.unsafe<T[]>(text, params))]
  } finally {
    await sql.end()
  }
}

const usersWithEmail = (address: string) =>
  query<{ id: string }>('select id::text from auth.users where email = $1', [address])

describe('npm start on the embedded database', () => {
  it('comes up on a fresh data folder with the migrations and seed applied', async () => {
    stack = await startStack(env)
    const versions = await query<{ version: string }>(
      'select version from supabase_migrations.schema_migrations order by version',
    )
    expect(versions.map((row) => row.version)).toEqual(
      (await listMigrations()).map((m) => m.version),
    )
    const plans = await query<{ id: string }>('select id from tollgate.plans order by sort_order')
    expect(plans.map((plan) => plan.id)).toEqual(['free', 'pro', 'enterprise'])
  })

  it('accepts a token from npm run token for a user it created in auth.users', async () => {
    const { jwt, claims } = await token(env, email)
    userId = String(claims.sub)
    expect(await usersWithEmail(email)).toEqual([{ id: userId }])
    const checkout = await post(`${stack?.functions}/billing/checkout`, jwt, { plan_id: 'free' })
    expect(checkout).toEqual({ status: 200, body: { subscription: null } })
  })

  it('leaves no named statements in the one PGlite session the functions share', async () => {
    // Each pool reconnect would add its own; nothing deallocates them in a session that never ends.
    const { jwt } = await token(env, email)
    await post(`${stack?.functions}/billing/checkout`, jwt, { plan_id: 'free' })
    expect(await query('select name from pg_catalog.pg_prepared_statements')).toEqual([])
  })

  it('answers a Stripe checkout with 503 NOCFG naming STRIPE_SECRET_KEY while it is unset', async () => {
    const { jwt } = await token(env, email)
    const checkout = await post(`${stack?.functions}/billing/checkout`, jwt, {
      plan_id: 'pro',
      provider: 'stripe',
    })
    expect(checkout.status).toBe(503)
    expect(checkout.body).toMatchObject({
      code: 'NOCFG',
      details: { missing: 'STRIPE_SECRET_KEY' },
    })
  })

  it('stops on SIGTERM with exit code 0 and gives the database up', async () => {
    expect(await stack?.stop('SIGTERM')).toBe(0)
    expect(existsSync(join(data.dir, 'pglite.lock'))).toBe(false)
    stack = undefined
  })

  it('finds the same user after a restart', async () => {
    stack = await startStack(env)
    expect(await usersWithEmail(email)).toEqual([{ id: userId }])
    const { jwt, claims } = await token(env, email)
    expect(claims.sub).toBe(userId)
    const checkout = await post(`${stack.functions}/billing/checkout`, jwt, { plan_id: 'free' })
    expect(checkout).toEqual({ status: 200, body: { subscription: null } })
  })

  it('answers every request it began before SIGTERM, then exits 0', async () => {
    const running = stack as Stack
    const { jwt } = await token(env, email)
    const handled = () =>
      running.output().match(/POST \/functions\/v1\/billing\/checkout 200/g) ?? []
    const before = handled().length
    const calls = Array.from({ length: 20 }, () =>
      post(`${running.functions}/billing/checkout`, jwt, { plan_id: 'free' }).then(
        (answer) => answer.status,
        () => 'no answer',
      ),
    )
    // Signalled once the first of them has been answered: the others are in flight or refused.
    while (handled().length === before) await new Promise((tick) => setTimeout(tick, 1))
    expect(await running.stop('SIGTERM')).toBe(0)
    stack = undefined
    const answers = await Promise.all(calls)
    const answered = answers.filter((answer) => answer === 200)
    // Each request the stack took up was answered; none was cut off by the shutdown.
    expect(answered.length).toBe(handled().length - before)
    expect(answered.length).toBeGreaterThan(0)
  })

  it('starts over with --reset: migrated and seeded, without the user', async () => {
    stack = await startStack(env, ['--reset'])
    expect(await usersWithEmail(email)).toEqual([])
    const [seed] = await query<{ plans: number }>(
      'select count(*)::int as plans from tollgate.plans',
    )
    expect(seed).toEqual({ plans: 3 })
    expect(await stack.stop('SIGTERM')).toBe(0)
    stack = undefined
  })
})
