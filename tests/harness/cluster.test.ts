import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { applyBootstrap } from '../../packages/db/src/migrate.ts'
import {
  asAdmin,
  asAnon,
  asServiceRole,
  asUser,
  createScratchDatabase,
  createUser,
  ownerSql,
  pgError,
  superSql,
  withRollback,
} from '../helpers/db.ts'

const external = inject('externalDatabase')
const sql = ownerSql()
afterAll(() => sql.end())

type Who = { role: string; uid: string | null; email: string | null; jwtRole: string | null }

const whoAmI = async (tx: postgres.TransactionSql): Promise<Who> => {
  const [row] = await tx<Who[]>`
    select
      current_user as role,
      auth.uid()::text as uid,
      auth.email() as email,
      auth.jwt() -> 'app_metadata' ->> 'role' as "jwtRole"`
  if (!row) throw new Error('no row')
  return row
}

const countUsersIn = async (tx: postgres.TransactionSql, email: string): Promise<number> => {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from auth.users where email = ${email}`
  return row?.n ?? -1
}

describe('the test database', () => {
  it.skipIf(external)(
    'connects tests as the owner role postgres, which is not a superuser',
    async () => {
      const [row] = await sql`
      select current_user as role, rolsuper as super from pg_catalog.pg_roles
      where rolname = current_user`
      expect(row).toEqual({ role: 'postgres', super: false })
    },
  )

  it('has the Supabase roles, auth.users and the auth functions', async () => {
    const roles = await sql`
      select rolname from pg_catalog.pg_roles
      where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin')
      order by rolname`
    expect(roles.map((r) => r.rolname)).toEqual([
      'anon',
      'authenticated',
      'authenticator',
      'service_role',
      'supabase_admin',
    ])
    const [auth] = await sql`
      select pg_catalog.pg_get_userbyid(nspowner) as owner from pg_catalog.pg_namespace
      where nspname = 'auth'`
    expect(auth).toEqual({ owner: 'supabase_admin' })
  })
})

describe('role helpers', () => {
  it('asUser runs as authenticated with auth.uid() = the claims sub', async () => {
    const id = randomUUID()
    const who = await asUser(sql, id, whoAmI)
    expect(who).toEqual({
      role: 'authenticated',
      uid: id,
      email: expect.any(String),
      jwtRole: null,
    })
  })

  it('asUser accepts partial claims and a created user', async () => {
    const id = randomUUID()
    const fromClaims = await asUser(sql, { sub: id, email: 'a@example.test' }, whoAmI)
    expect(fromClaims).toMatchObject({ role: 'authenticated', uid: id, email: 'a@example.test' })
    const fromUser = await withRollback(sql, async (tx) => {
      const user = await createUser(tx, { email: 'b@example.test' })
      return { user, who: await asUser(sql, user, whoAmI) }
    })
    expect(fromUser.who).toMatchObject({ uid: fromUser.user.id, email: 'b@example.test' })
  })

  it('asAdmin carries app_metadata.role = admin', async () => {
    const id = randomUUID()
    expect(await asAdmin(sql, id, whoAmI)).toMatchObject({
      role: 'authenticated',
      uid: id,
      jwtRole: 'admin',
    })
  })

  it('asAnon runs as anon without a user', async () => {
    expect(await asAnon(sql, whoAmI)).toEqual({
      role: 'anon',
      uid: null,
      email: null,
      jwtRole: null,
    })
  })

  it('asServiceRole runs as service_role', async () => {
    expect(await asServiceRole(sql, whoAmI)).toMatchObject({ role: 'service_role', uid: null })
  })

  it('leaves no role or claims behind on the pooled connection', async () => {
    const single = ownerSql({ max: 1 })
    try {
      await asUser(single, randomUUID(), whoAmI)
      const [row] = await single`
        select current_user as role, auth.uid() as uid,
          pg_catalog.current_setting('request.jwt.claims', true) as claims`
      expect(row?.role).toBe(sql.options.user)
      expect(row?.uid).toBeNull()
      expect(row?.claims ?? '').toBe('')
    } finally {
      await single.end()
    }
  })

  it('keeps API roles out of auth.users (42501)', async () => {
    await expect(asAnon(sql, (tx) => tx`select from auth.users`)).rejects.toHaveProperty(
      'code',
      '42501',
    )
    await expect(
      asUser(sql, randomUUID(), (tx) => tx`select from auth.users`),
    ).rejects.toHaveProperty('code', '42501')
  })
})

describe('transactions', () => {
  const countUsers = async (email: string): Promise<number> => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from auth.users where email = ${email}`
    return row?.n ?? -1
  }

  it('rolls back by default and still returns the callback value', async () => {
    const email = `rollback-${randomUUID()}@example.test`
    const user = await withRollback(sql, (tx) => createUser(tx, { email }))
    expect(user.email).toBe(email)
    expect(await countUsers(email)).toBe(0)
    const seen = await asServiceRole(sql, async (tx) => {
      await tx`insert into auth.users (email) values (${email})`
      return countUsersIn(tx, email)
    })
    expect(seen).toBe(1)
    expect(await countUsers(email)).toBe(0)
  })

  it('commits with { commit: true }', async () => {
    const email = `commit-${randomUUID()}@example.test`
    await asServiceRole(sql, (tx) => tx`insert into auth.users (email) values (${email})`, {
      commit: true,
    })
    expect(await countUsers(email)).toBe(1)
    await sql`delete from auth.users where email = ${email}`
  })

  it('createUser commits the user', async () => {
    const user = await createUser(sql, { admin: true })
    try {
      expect(await countUsers(user.email)).toBe(1)
      expect(user.claims).toMatchObject({
        sub: user.id,
        role: 'authenticated',
        aud: 'authenticated',
        app_metadata: { provider: 'email', providers: ['email'], role: 'admin' },
      })
    } finally {
      await sql`delete from auth.users where id = ${user.id}`
    }
  })

  it('rethrows real errors unwrapped, with their SQLSTATE (22012)', async () => {
    await expect(asUser(sql, randomUUID(), (tx) => tx`select 1 / 0`)).rejects.toHaveProperty(
      'code',
      '22012',
    )
    await expect(withRollback(sql, (tx) => tx`select 1 / 0`)).rejects.toBeInstanceOf(
      postgres.PostgresError,
    )
    await expect(
      asAnon(sql, () => {
        throw new TypeError('boom')
      }),
    ).rejects.toThrow(TypeError)
  })

  it('returns the value when the callback expected and caught an error', async () => {
    const result = await asUser(sql, randomUUID(), async (tx) => {
      const error = await pgError(tx`select 1 / 0`)
      return error.code
    })
    expect(result).toBe('22012')
  })

  it('pgError fails when the query succeeds', async () => {
    await expect(pgError(sql`select 1`)).rejects.toThrow(/expected the query to fail/)
  })
})

describe('the bootstrap', () => {
  it.skipIf(external)('is harmless when applied twice', async () => {
    const scratch = await createScratchDatabase({ bootstrap: false })
    const admin = postgres(scratch.superuserUrl, { max: 1, onnotice: () => {} })
    try {
      expect(await applyBootstrap(admin)).toBe(true)
      expect(await applyBootstrap(admin)).toBe(false)
      expect(await applyBootstrap(admin, { force: true })).toBe(true)
      const [row] = await admin`
        select count(*)::int as users,
          (select count(*)::int from pg_catalog.pg_proc p
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'auth') as functions
        from auth.users`
      expect(row).toEqual({ users: 0, functions: 4 })
    } finally {
      await admin.end()
      await scratch.drop()
    }
  })

  it.skipIf(external)('is not re-applied where schema auth exists', async () => {
    const admin = superSql({ max: 1 })
    try {
      expect(await applyBootstrap(admin)).toBe(false)
    } finally {
      await admin.end()
    }
  })
})
