import { randomUUID } from 'node:crypto'
import { Hono } from 'hono'
import { decodeProtectedHeader } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { type AuthEnv, requireUser } from '../../core/src/auth.ts'
import { notFound, onError } from '../../core/src/http.ts'
import { ownerSql } from '../../../tests/helpers/db.ts'
import { accessClaims, ensureUser, signAccessToken } from './users.ts'

const sql = ownerSql({ max: 2 })
afterAll(() => sql.end())

const SECRET = 'a-local-secret-of-at-least-32-characters'
const freshEmail = () => `Local-${randomUUID().slice(0, 8)}@Example.test`

const stored = async (id: string) => {
  const [row] = await sql`
    select email, aud, role, email_confirmed_at is not null as confirmed,
      raw_app_meta_data as app_metadata, raw_user_meta_data as user_metadata
    from auth.users where id = ${id}`
  return row
}

describe('ensureUser', () => {
  it('creates a confirmed email user once, with the email lower-cased, and finds it again', async () => {
    const email = freshEmail()
    const first = await ensureUser(sql, email)
    const again = await ensureUser(sql, email.toUpperCase())
    expect(first).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      phone: null,
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: {},
      created: true,
    })
    expect(again).toEqual({ ...first, created: false })
    expect(await stored(first.id)).toEqual({
      email: email.toLowerCase(),
      aud: 'authenticated',
      role: 'authenticated',
      confirmed: true,
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: {},
    })
    const [count] = await sql`
      select count(*)::int as count from auth.users where lower(email) = ${email.toLowerCase()}`
    expect(count).toEqual({ count: 1 })
  })

  it('creates one user when two requests for a new email race', async () => {
    const email = freshEmail()
    const [one, two] = await Promise.all([ensureUser(sql, email), ensureUser(sql, email)])
    expect(one?.id).toBe(two?.id)
    expect([one?.created, two?.created].sort()).toEqual([false, true])
  })

  it('makes the user an admin with admin, and a plain user again without', async () => {
    const email = freshEmail()
    const admin = await ensureUser(sql, email, { admin: true })
    expect(admin.app_metadata).toEqual({ provider: 'email', providers: ['email'], role: 'admin' })
    expect((await stored(admin.id))?.app_metadata).toEqual(admin.app_metadata)
    const plain = await ensureUser(sql, email)
    expect(plain.app_metadata).toEqual({ provider: 'email', providers: ['email'] })
    expect((await stored(admin.id))?.app_metadata).toEqual(plain.app_metadata)
  })
})

describe('accessClaims and signAccessToken', () => {
  const user = {
    id: randomUUID(),
    email: 'someone@example.test',
    phone: null,
    app_metadata: { provider: 'email', providers: ['email'], role: 'admin' },
    user_metadata: { name: 'Someone' },
  }

  it('has the claims of a Supabase Auth password session', () => {
    const now = new Date('2026-11-23T12:00:00Z')
    const claims = accessClaims(user, { issuer: 'http://127.0.0.1:54321/auth/v1', now })
    expect(claims).toEqual({
      iss: 'http://127.0.0.1:54321/auth/v1',
      sub: user.id,
      aud: 'authenticated',
      exp: 1795435200 + 3600,
      iat: 1795435200,
      email: 'someone@example.test',
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'], role: 'admin' },
      user_metadata: { name: 'Someone' },
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: 1795435200 }],
      session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      is_anonymous: false,
    })
  })

  it('signs a token that requireUser accepts with the same secret, and refuses with another (BDJWT)', async () => {
    const claims = accessClaims(user, { issuer: 'http://127.0.0.1:54321/auth/v1', expiresIn: 60 })
    const token = await signAccessToken(claims, SECRET)
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' })
    const appWith = (jwtSecret: string) => {
      const app = new Hono<AuthEnv>()
      app.onError(onError)
      app.notFound(notFound)
      app.use(requireUser({ jwtSecret }))
      app.get('/me', (c) => c.json(c.var.user))
      return app
    }
    const headers = { authorization: `Bearer ${token}` }
    const accepted = await appWith(SECRET).request('/me', { headers })
    expect(accepted.status).toBe(200)
    expect(await accepted.json()).toEqual({ id: user.id, claims })
    const refused = await appWith(`${SECRET}-other`).request('/me', { headers })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toHaveProperty('code', 'BDJWT')
  })
})
