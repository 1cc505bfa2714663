import { describe, expect } from 'vitest'
import { it } from './support.ts'

describe('the typed client: API keys and the account', () => {
  it('makes a key shown once, lists metadata only, revokes it, and refuses past the plan (QUOTA)', async ({ stack }) => {
    const caller = await stack.signIn()
    const made = await caller.tollgate.createApiKey('server', { scopes: ['consume'] })
    expect(made).toMatchObject({ name: 'server', scopes: ['consume'], expires_at: null })
    expect(made.key.startsWith(made.prefix + '_')).toBe(true)
    const second = await caller.tollgate.createApiKey('laptop')
    expect(second.scopes).toEqual(['consume', 'read'])

    const listed = await caller.tollgate.myApiKeys()
    expect(listed.map((k) => k.name)).toEqual(['laptop', 'server'])
    expect(JSON.stringify(listed)).not.toContain(made.key.slice(16))

    await expect(caller.tollgate.createApiKey('third')).rejects.toMatchObject({ code: 'QUOTA', status: 429 })
    const revoked = await caller.tollgate.revokeApiKey(made.id)
    expect(revoked.revoked_at).not.toBeNull()
    await expect(caller.tollgate.createApiKey('third')).resolves.toMatchObject({ name: 'third' })

    const other = await stack.signIn()
    await expect(other.tollgate.revokeApiKey(second.id)).rejects.toMatchObject({ code: 'NOKEY', status: 404 })
    expect(await other.tollgate.myApiKeys()).toEqual([])
  })

  it('deletes the caller\'s Tollgate data through the billing function; a second call finds nothing left', async ({ stack }) => {
    const caller = await stack.signIn()
    await caller.tollgate.createApiKey('server')
    await caller.tollgate.consume('api_calls', 2)
    const first = await caller.tollgate.deleteAccount()
    expect(first).toMatchObject({ forgotten: true, deleted: { api_keys: 1 } })
    expect(await caller.tollgate.myApiKeys()).toEqual([])
    expect(await caller.tollgate.deleteAccount()).toMatchObject({ nothing_left: true })
  })
})
