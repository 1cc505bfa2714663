import { describe, expect, it } from 'vitest'
import { envOf, readEnv, requireEnv } from './env.ts'
import type { ApiError } from './http.ts'

const thrownBy = (fn: () => unknown): ApiError => {
  try {
    fn()
  } catch (error) {
    return error as ApiError
  }
  throw new Error('expected a throw')
}

describe('readEnv', () => {
  it('parses the contract variables and drops everything else', () => {
    const env = readEnv({
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:5432/postgres',
      SUPABASE_URL: 'https://abc.supabase.co/',
      SUPABASE_JWT_SECRET: 'secret',
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      PORT: '54321',
      TOLLGATE_REDIRECT_ORIGINS: 'https://app.example.com, http://localhost:3000/ ,',
      HOME: '/root',
    })
    expect(env).toEqual({
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:5432/postgres',
      SUPABASE_URL: 'https://abc.supabase.co',
      SUPABASE_JWT_SECRET: 'secret',
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      PORT: 54321,
      TOLLGATE_REDIRECT_ORIGINS: ['https://app.example.com', 'http://localhost:3000'],
    })
  })

  it('reads TOLLGATE_DB_PREPARE as a boolean and refuses other values (NOCFG)', () => {
    expect(readEnv({ TOLLGATE_DB_PREPARE: 'false' })).toEqual({ TOLLGATE_DB_PREPARE: false })
    expect(readEnv({ TOLLGATE_DB_PREPARE: 'true' })).toEqual({ TOLLGATE_DB_PREPARE: true })
    expect(thrownBy(() => readEnv({ TOLLGATE_DB_PREPARE: 'no' }))).toMatchObject({
      code: 'NOCFG',
      details: { invalid: ['TOLLGATE_DB_PREPARE'] },
    })
  })

  it('reads TOLLGATE_ALLOWED_ORIGINS as origins and the DB timeouts as milliseconds (NOCFG else)', () => {
    expect(
      readEnv({
        TOLLGATE_ALLOWED_ORIGINS: 'https://app.example.com,http://127.0.0.1:5173/',
        TOLLGATE_DB_STATEMENT_TIMEOUT: '8s',
        TOLLGATE_DB_LOCK_TIMEOUT: '500',
      }),
    ).toEqual({
      TOLLGATE_ALLOWED_ORIGINS: ['https://app.example.com', 'http://127.0.0.1:5173'],
      TOLLGATE_DB_STATEMENT_TIMEOUT: 8000,
      TOLLGATE_DB_LOCK_TIMEOUT: 500,
    })
    expect(readEnv({ TOLLGATE_DB_LOCK_TIMEOUT: '2min' })).toEqual({ TOLLGATE_DB_LOCK_TIMEOUT: 120000 })
    const error = thrownBy(() =>
      readEnv({ TOLLGATE_ALLOWED_ORIGINS: 'https://app.example.com/path', TOLLGATE_DB_LOCK_TIMEOUT: '3 s' }),
    )
    expect(error).toMatchObject({
      code: 'NOCFG',
      details: { invalid: ['TOLLGATE_ALLOWED_ORIGINS', 'TOLLGATE_DB_LOCK_TIMEOUT'] },
    })
  })

  it('treats empty values as unset', () => {
    expect(readEnv({ SUPABASE_URL: '', STRIPE_SECRET_KEY: '', PORT: undefined })).toEqual({})
  })

  it('reads the process environment by default on Node', () => {
    const previous = process.env.RAZORPAY_KEY_ID
    process.env.RAZORPAY_KEY_ID = 'rzp_test_default_source'
    try {
      expect(readEnv().RAZORPAY_KEY_ID).toBe('rzp_test_default_source')
    } finally {
      if (previous === undefined) delete process.env.RAZORPAY_KEY_ID
      else process.env.RAZORPAY_KEY_ID = previous
    }
  })

  it('refuses invalid settings, naming them without their values (NOCFG)', () => {
    const error = thrownBy(() =>
      readEnv({
        SUPABASE_URL: 'ftp://secret-host',
        RAZORPAY_API_BASE: 'not a url',
        PORT: '99999',
        TOLLGATE_REDIRECT_ORIGINS: 'https://ok.example.com,https://app.example.com/callback',
      }),
    )
    expect(error).toMatchObject({
      code: 'NOCFG',
      status: 503,
      details: {
        invalid: ['SUPABASE_URL', 'RAZORPAY_API_BASE', 'PORT', 'TOLLGATE_REDIRECT_ORIGINS'],
      },
    })
    expect(JSON.stringify(error.details)).not.toContain('secret-host')
  })
})

describe('requireEnv', () => {
  it('returns a set value', () => {
    const env = readEnv({ STRIPE_SECRET_KEY: 'sk_test_123' })
    expect(requireEnv(env, 'STRIPE_SECRET_KEY')).toBe('sk_test_123')
  })

  it('refuses a missing value with 503 naming it (NOCFG)', () => {
    const error = thrownBy(() => requireEnv(readEnv({}), 'STRIPE_WEBHOOK_SECRET'))
    expect(error).toMatchObject({
      name: 'ApiError',
      code: 'NOCFG',
      status: 503,
      details: { missing: 'STRIPE_WEBHOOK_SECRET' },
    })
  })
})

describe('envOf', () => {
  const runtime = process.env.STRIPE_API_BASE

  it('parses a bindings object once: the same object gives the same result', () => {
    const bindings = { STRIPE_SECRET_KEY: 'sk_test_once', HOME: '/elsewhere' }
    const env = envOf(bindings)
    expect(env.STRIPE_SECRET_KEY).toBe('sk_test_once')
    expect(envOf(bindings)).toBe(env)
    expect(envOf({ ...bindings })).not.toBe(env)
    expect(envOf({ ...bindings })).toEqual(env)
  })

  it('lays string bindings over the runtime variables; undefined unsets one', () => {
    const base = envOf({
      STRIPE_SECRET_KEY: 'sk_test_base',
      STRIPE_API_BASE: 'http://127.0.0.1:9/',
    })
    expect(base).toMatchObject({
      STRIPE_SECRET_KEY: 'sk_test_base',
      STRIPE_API_BASE: 'http://127.0.0.1:9',
    })
    expect(envOf({ STRIPE_API_BASE: undefined }).STRIPE_API_BASE).toBeUndefined()
  })

  it('reads the runtime variables alone, once, when no binding is a variable', () => {
    const alone = envOf(undefined)
    expect(alone.STRIPE_API_BASE).toBe(runtime?.replace(/\/+$/, '') || undefined)
    // Deno.serve passes its connection info as the second argument.
    expect(envOf({ remoteAddr: { hostname: '127.0.0.1' }, completed: Promise.resolve() })).toBe(
      alone,
    )
    expect(envOf({ STRIPE_SECRET_KEY: 42 })).toBe(alone)
    expect(envOf(undefined)).toBe(alone)
  })

  it('refuses invalid bindings every time, caching nothing (NOCFG)', () => {
    const bindings = { SUPABASE_URL: 'ftp://nowhere' }
    for (const _ of [1, 2]) {
      expect(thrownBy(() => envOf(bindings))).toMatchObject({
        code: 'NOCFG',
        details: { invalid: ['SUPABASE_URL'] },
      })
    }
  })
})
