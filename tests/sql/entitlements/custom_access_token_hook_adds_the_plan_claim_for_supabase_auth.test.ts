import { afterAll, describe, expect } from 'vitest'
import { asUser, pgError, superSql } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { subscribe } from './support.ts'

// Supabase Auth calls the hook as its own role, supabase_auth_admin (a superuser session that
// `set role`s to it sees exactly that role's privileges).
const su = superSql()
afterAll(() => su.end())

// The documented event (supabase.com/docs/guides/auth/auth-hooks/custom-access-token-hook).
const eventOf = (userId: string) => ({
  user_id: userId,
  claims: {
    aud: 'authenticated',
    exp: 1767225600,
    iat: 1767222000,
    iss: 'https://project.supabase.co/auth/v1',
    sub: userId,
    email: 'someone@example.com',
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: 1767222000 }],
    session_id: '6f2b6a4e-3c41-4a51-9a52-1b7e3c1d2f00',
    is_anonymous: false,
  },
  authentication_method: 'password',
})

const callHook = async (event: unknown) =>
  su.begin(async (tx) => {
    await tx`set local role supabase_auth_admin`
    const [{ out }] = await tx`select tollgate.custom_access_token_hook(${tx.json(event as never)}) as out`
    return out
  })

describe('tollgate.custom_access_token_hook', () => {
  it('adds tollgate_plan and keeps every other claim and field', async ({ sql, users }) => {
    const free = await users.create()
    const pro = await users.create()
    await subscribe(sql, pro, 'pro')

    for (const [user, plan] of [[free, 'free'], [pro, 'pro']] as const) {
      const event = eventOf(user.id)
      expect(await callHook(event)).toEqual({
        ...event,
        claims: { ...event.claims, tollgate_plan: plan },
      })
    }
  })

  it('never fails a sign-in: an event it cannot read comes back unchanged', async () => {
    for (const event of [{ user_id: 'not-a-uuid', claims: { role: 'authenticated' } }, { user_id: null }]) {
      expect(await callHook(event)).toEqual(event)
    }
  })

  it('API roles cannot call it (42501)', async ({ sql, user }) => {
    const error = await pgError(asUser(sql, user, (tx) =>
      tx`select tollgate.custom_access_token_hook(${tx.json(eventOf(user.id))})`))
    expect(error.code).toBe('42501')
  })
})
