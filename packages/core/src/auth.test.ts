import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Hono } from 'hono'
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AuthEnv, type AuthOptions, authOptionsOf, requireUser } from './auth.ts'
import { notFound, onError } from './http.ts'

const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long'
const encoder = new TextEncoder()
const epoch = (): number => Math.floor(Date.now() / 1000)

const userPayload = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: 'http://127.0.0.1:54321/auth/v1',
  sub: randomUUID(),
  aud: 'authenticated',
  role: 'authenticated',
  email: 'someone@example.test',
  app_metadata: { provider: 'email' },
  iat: epoch(),
  exp: epoch() + 3600,
  ...overrides,
})

const signHs256 = (payload: JWTPayload, secret = SECRET): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(encoder.encode(secret))

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url')

const appWith = (options: AuthOptions | (() => AuthOptions)) => {
  const app = new Hono<AuthEnv>()
  app.onError(onError)
  app.notFound(notFound)
  app.use(requireUser(options))
  app.get('/me', (c) => c.json(c.var.user))
  return app
}

const call = async (app: Hono<AuthEnv>, authorization?: string) => {
  const res = await app.request('/me', {
    headers: authorization === undefined ? {} : { authorization },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const secretApp = appWith({ jwtSecret: SECRET })

describe('requireUser with the HS256 secret', () => {
  it('sets the user from a valid token', async () => {
    const payload = userPayload()
    const { status, body } = await call(secretApp, `Bearer ${await signHs256(payload)}`)
    expect(status).toBe(200)
    expect(body).toEqual({ id: payload.sub, claims: payload })
  })

  it('accepts the scheme in any case', async () => {
    const payload = userPayload()
    const { status } = await call(secretApp, `bearer ${await signHs256(payload)}`)
    expect(status).toBe(200)
  })

  it('refuses a request without Authorization (NOJWT)', async () => {
    expect(await call(secretApp)).toEqual({
      status: 401,
      body: { code: 'NOJWT', message: 'Sign in first', details: null, hint: null },
    })
  })

  it('refuses an expired token (BDJWT)', async () => {
    const token = await signHs256(userPayload({ iat: epoch() - 7200, exp: epoch() - 3600 }))
    expect(await call(secretApp, `Bearer ${token}`)).toEqual({
      status: 401,
      body: {
        code: 'BDJWT',
        message: 'The access token is invalid or expired',
        details: null,
        hint: null,
      },
    })
  })

  it('refuses a token that is not valid yet (BDJWT)', async () => {
    const token = await signHs256(userPayload({ nbf: epoch() + 3600 }))
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses a token without an expiry (BDJWT)', async () => {
    const { exp: _exp, ...payload } = userPayload()
    const token = await signHs256(payload)
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses an unsigned token with alg none (BDJWT)', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(userPayload())}.`
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses a token signed with another secret (BDJWT)', async () => {
    const token = await signHs256(userPayload(), 'another-secret-of-at-least-32-characters!!')
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses a token whose payload was changed after signing (BDJWT)', async () => {
    const [header, , signature] = (await signHs256(userPayload())).split('.')
    const forged = `${header}.${base64url(userPayload({ sub: randomUUID() }))}.${signature}`
    expect(await call(secretApp, `Bearer ${forged}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it.each([
    ['a word', 'Bearer not-a-jwt'],
    ['three garbage segments', 'Bearer abc.def.ghi'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a scheme without a token', 'Bearer'],
  ])('refuses a malformed header: %s (BDJWT)', async (_name, authorization) => {
    expect(await call(secretApp, authorization)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses the anon key: nobody is signed in (NOJWT)', async () => {
    const anonKey = await signHs256({
      iss: 'supabase',
      role: 'anon',
      iat: epoch(),
      exp: epoch() + 60,
    })
    expect(await call(secretApp, `Bearer ${anonKey}`)).toMatchObject({
      status: 401,
      body: { code: 'NOJWT' },
    })
  })

  it('refuses the service_role key: it is not a user (NOJWT)', async () => {
    const key = await signHs256({ iss: 'supabase', role: 'service_role', exp: epoch() + 60 })
    expect(await call(secretApp, `Bearer ${key}`)).toMatchObject({
      status: 401,
      body: { code: 'NOJWT' },
    })
  })

  it('refuses a non-JWT publishable API key (NOJWT)', async () => {
    expect(await call(secretApp, 'Bearer sb_publishable_abc123')).toMatchObject({
      status: 401,
      body: { code: 'NOJWT' },
    })
  })

  it('refuses an authenticated token whose subject is not a uuid (BDJWT)', async () => {
    const token = await signHs256(userPayload({ sub: 'user-1' }))
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses an HS256 token when only the JWKS is configured (BDJWT)', async () => {
    const app = appWith({ supabaseUrl: 'http://127.0.0.1:9' })
    const token = await signHs256(userPayload())
    expect(await call(app, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('reads its options per request when given a function', async () => {
    const options = vi.fn(() => ({ jwtSecret: SECRET }))
    const app = appWith(options)
    const { status } = await call(app, `Bearer ${await signHs256(userPayload())}`)
    expect(status).toBe(200)
    expect(options).toHaveBeenCalledTimes(1)
  })
})

describe('requireUser checks what a user token claims', () => {
  const refused = (code: string, status = 401) => ({ status, body: { code } })
  const week = 7 * 24 * 3600

  it.each([
    ['the anon audience', { aud: 'anon' }],
    ['no audience', { aud: undefined }],
    ['an audience list without authenticated', { aud: ['anon', 'other'] }],
  ])('refuses a token with %s (BDJWT)', async (_name, overrides) => {
    const token = await signHs256(userPayload(overrides))
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject(refused('BDJWT'))
  })

  it('accepts an audience list that holds authenticated', async () => {
    const token = await signHs256(userPayload({ aud: ['authenticated', 'other'] }))
    expect((await call(secretApp, `Bearer ${token}`)).status).toBe(200)
  })

  it("refuses a token of another issuer than SUPABASE_URL's Auth when it is set (BDJWT)", async () => {
    const app = appWith({ jwtSecret: SECRET, supabaseUrl: 'https://abc.supabase.co' })
    const own = await signHs256(userPayload({ iss: 'https://abc.supabase.co/auth/v1' }))
    const other = await signHs256(userPayload({ iss: 'https://xyz.supabase.co/auth/v1' }))
    const none = await signHs256(userPayload({ iss: undefined }))
    expect((await call(app, `Bearer ${own}`)).status).toBe(200)
    expect(await call(app, `Bearer ${other}`)).toMatchObject(refused('BDJWT'))
    expect(await call(app, `Bearer ${none}`)).toMatchObject(refused('BDJWT'))
  })

  it('takes any issuer when SUPABASE_URL is not set', async () => {
    const token = await signHs256(userPayload({ iss: 'https://xyz.supabase.co/auth/v1' }))
    expect((await call(secretApp, `Bearer ${token}`)).status).toBe(200)
  })

  it.each([
    ['an expiry in 1e300 seconds', { exp: 1e300 }],
    ['an expiry more than a week ahead', { exp: epoch() + week + 3600 }],
    ['a life longer than a week', { iat: epoch() - week, exp: epoch() + 3600 }],
    ['no issued-at time', { iat: undefined }],
  ])('refuses a token with %s (BDJWT)', async (_name, overrides) => {
    const token = await signHs256(userPayload(overrides))
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject(refused('BDJWT'))
  })

  it('accepts a token that lives a week, as long as Supabase Auth can issue', async () => {
    const token = await signHs256(userPayload({ iat: epoch(), exp: epoch() + week }))
    expect((await call(secretApp, `Bearer ${token}`)).status).toBe(200)
  })

  it('refuses an anonymous user: they have no account to bill (ANONY)', async () => {
    const token = await signHs256(userPayload({ is_anonymous: true }))
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject(refused('ANONY', 403))
    const signedUp = await signHs256(userPayload({ is_anonymous: false }))
    expect((await call(secretApp, `Bearer ${signedUp}`)).status).toBe(200)
  })
})

describe('requireUser without keys', () => {
  it('answers 503 naming the missing variables, before looking at the token (NOCFG)', async () => {
    const app = appWith({ jwtSecret: '', supabaseUrl: undefined })
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    const response = await call(app)
    expect(stderr).toHaveBeenCalledTimes(1)
    stderr.mockRestore()
    expect(response).toEqual({
      status: 503,
      body: {
        code: 'NOCFG',
        message: 'This service is not configured',
        details: { missing: 'SUPABASE_JWT_SECRET (or TOLLGATE_JWT_SECRET) or SUPABASE_URL' },
        hint: null,
      },
    })
  })
})

// A local Supabase Auth stand-in: serves a JWKS at /auth/v1/.well-known/jwks.json.
type JwksServer = { url: string; hits: () => number; close: () => Promise<void> }

const serveJwks = async (jwks: unknown, status = 200): Promise<JwksServer> => {
  let hits = 0
  const server: Server = createServer((req, res) => {
    if (req.url !== '/auth/v1/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    hits += 1
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

const publicJwk = async (pair: KeyPair, kid: string, alg: string) => ({
  ...(await exportJWK(pair.publicKey)),
  kid,
  alg,
  use: 'sig',
})

const signWith = (pair: KeyPair, kid: string, alg: string, payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(pair.privateKey)

describe('requireUser with the JWKS of SUPABASE_URL', () => {
  let es256: KeyPair
  let rs256: KeyPair
  let stranger: KeyPair
  let auth: JwksServer

  beforeAll(async () => {
    es256 = await generateKeyPair('ES256')
    rs256 = await generateKeyPair('RS256')
    stranger = await generateKeyPair('ES256')
    auth = await serveJwks({
      keys: [await publicJwk(es256, 'es-key', 'ES256'), await publicJwk(rs256, 'rs-key', 'RS256')],
    })
  })
  afterAll(() => auth.close())

  // A token of the project at auth.url, whose issuer that URL names.
  const projectPayload = (overrides: JWTPayload = {}, url = auth.url): JWTPayload =>
    userPayload({ iss: `${url}/auth/v1`, ...overrides })

  it('sets the user from an ES256 token signed by a published key', async () => {
    const payload = projectPayload()
    const token = await signWith(es256, 'es-key', 'ES256', payload)
    const { status, body } = await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)
    expect(status).toBe(200)
    expect(body).toEqual({ id: payload.sub, claims: payload })
  })

  it('sets the user from an RS256 token signed by a published key', async () => {
    const payload = projectPayload()
    const token = await signWith(rs256, 'rs-key', 'RS256', payload)
    const { status, body } = await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)
    expect(status).toBe(200)
    expect(body).toHaveProperty('id', payload.sub)
  })

  it('accepts both HS256 and JWKS tokens when both are configured', async () => {
    const app = appWith({ jwtSecret: SECRET, supabaseUrl: auth.url })
    const viaJwks = await signWith(es256, 'es-key', 'ES256', projectPayload())
    const viaSecret = await signHs256(projectPayload())
    expect((await call(app, `Bearer ${viaJwks}`)).status).toBe(200)
    expect((await call(app, `Bearer ${viaSecret}`)).status).toBe(200)
  })

  it('refuses a token signed by a key the JWKS does not publish, under a known kid (BDJWT)', async () => {
    const token = await signWith(stranger, 'es-key', 'ES256', projectPayload())
    expect(await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses a token whose kid the JWKS does not list (BDJWT)', async () => {
    const token = await signWith(stranger, 'unknown-key', 'ES256', projectPayload())
    expect(await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses an expired ES256 token (BDJWT)', async () => {
    const payload = projectPayload({ iat: epoch() - 7200, exp: epoch() - 3600 })
    const token = await signWith(es256, 'es-key', 'ES256', payload)
    expect(await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses an ES256 token when only the HS256 secret is configured (BDJWT)', async () => {
    const token = await signWith(es256, 'es-key', 'ES256', projectPayload())
    expect(await call(secretApp, `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'BDJWT' },
    })
  })

  it('refuses the anon key signed by a published key (NOJWT)', async () => {
    const token = await signWith(es256, 'es-key', 'ES256', { role: 'anon', exp: epoch() + 60 })
    expect(await call(appWith({ supabaseUrl: auth.url }), `Bearer ${token}`)).toMatchObject({
      status: 401,
      body: { code: 'NOJWT' },
    })
  })

  it('fetches the JWKS of one URL once for every middleware and request', async () => {
    const own = await serveJwks({ keys: [await publicJwk(es256, 'es-key', 'ES256')] })
    try {
      const first = appWith({ supabaseUrl: own.url })
      const second = appWith({ supabaseUrl: `${own.url}/` })
      for (const app of [first, second, first]) {
        const token = await signWith(es256, 'es-key', 'ES256', projectPayload({}, own.url))
        expect((await call(app, `Bearer ${token}`)).status).toBe(200)
      }
      expect(own.hits()).toBe(1)
    } finally {
      await own.close()
    }
  })

  it('answers 500 when the JWKS cannot be fetched, since the token may be fine (INTRN)', async () => {
    const broken = await serveJwks({ message: 'down' }, 500)
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const token = await signWith(es256, 'es-key', 'ES256', projectPayload())
      expect(await call(appWith({ supabaseUrl: broken.url }), `Bearer ${token}`)).toEqual({
        status: 500,
        body: { code: 'INTRN', message: 'Internal error', details: null, hint: null },
      })
      expect(stderr).toHaveBeenCalledTimes(1)
    } finally {
      stderr.mockRestore()
      await broken.close()
    }
  })
})

describe('authOptionsOf', () => {
  it('takes SUPABASE_JWT_SECRET, else TOLLGATE_JWT_SECRET, beside SUPABASE_URL', () => {
    const url = 'https://abcd.supabase.co'
    expect(authOptionsOf({ SUPABASE_JWT_SECRET: 'a', TOLLGATE_JWT_SECRET: 'b' })).toEqual({
      jwtSecret: 'a',
      supabaseUrl: undefined,
    })
    expect(authOptionsOf({ TOLLGATE_JWT_SECRET: 'b', SUPABASE_URL: url })).toEqual({
      jwtSecret: 'b',
      supabaseUrl: url,
    })
    expect(authOptionsOf({})).toEqual({ jwtSecret: undefined, supabaseUrl: undefined })
  })
})
