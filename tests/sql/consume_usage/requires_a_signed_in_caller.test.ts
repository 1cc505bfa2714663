import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asAnon, asClaims, asUser, userClaims } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf } from './support.ts'

describe('tollgate.consume_usage', () => {
  it('refuses an authenticated request whose claims have no sub (NOJWT)', async ({ sql }) => {
    const { sub: _, ...withoutSub } = userClaims('00000000-0000-0000-0000-000000000000')
    await expect(
      asClaims(sql, { ...withoutSub, role: 'authenticated' }, (tx) => consumeNow(tx, 'api_calls')),
    ).rejects.toHaveProperty('code', 'NOJWT')
    await expect(
      asClaims(sql, { role: 'authenticated' }, (tx) => consumeNow(tx, 'api_calls')),
    ).rejects.toHaveProperty('code', 'NOJWT')
  })

  it('cannot be executed by anon (42501)', async ({ sql }) => {
    await expect(asAnon(sql, (tx) => consumeNow(tx, 'api_calls'))).rejects.toHaveProperty(
      'code',
      '42501',
    )
    // Refused at the function itself, not only later at the private schema it calls into.
    const [row] = await sql<{ anon: boolean; authenticated: boolean }[]>`
      select
        has_function_privilege('anon', 'tollgate.consume_usage(text, bigint, text, jsonb)', 'execute')
          as anon,
        has_function_privilege('authenticated', 'tollgate.consume_usage(text, bigint, text, jsonb)', 'execute')
          as authenticated`
    expect(row).toEqual({ anon: false, authenticated: true })
  })

  it('does not let a signed-in user call the private function that takes a time (42501)', async ({
    sql,
    user,
  }) => {
    await expect(
      asUser(sql, user, (tx) => consumeAt(tx, user.id, 'api_calls', 1, '2099-01-01T00:00:00Z')),
    ).rejects.toHaveProperty('code', '42501')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })

  it('counts for the user in the claims, never for another', async ({ sql, users }) => {
    const alice = await users.create()
    const bob = await users.create()
    await asUser(sql, alice, (tx) => consumeNow(tx, 'api_calls', 3), { commit: true })
    expect(await counterOf(sql, alice.id, 'api_calls')).toMatchObject({ used: 3 })
    expect(await counterOf(sql, bob.id, 'api_calls')).toBeNull()
  })
})
