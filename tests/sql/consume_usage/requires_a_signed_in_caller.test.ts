import { afterAll, describe, expect, it } from 'vitest'
import { asAnon, asClaims, asUser, ownerSql, userClaims } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('tollgate.consume_usage', () => {
  it('refuses an authenticated request whose claims have no sub (NOJWT)', async () => {
    const { sub: _, ...withoutSub } = userClaims('00000000-0000-0000-0000-000000000000')
    await expect(
      asClaims(sql, { ...withoutSub, role: 'authenticated' }, (tx) => consumeNow(tx, 'api_calls')),
    ).rejects.toHaveProperty('code', 'NOJWT')
    await expect(
      asClaims(sql, { role: 'authenticated' }, (tx) => consumeNow(tx, 'api_calls')),
    ).rejects.toHaveProperty('code', 'NOJWT')
  })

  it('cannot be executed by anon (42501)', async () => {
    await expect(asAnon(sql, (tx) => consumeNow(tx, 'api_calls'))).rejects.toHaveProperty(
      'code',
      '42501',
    )
    // Refused at the function itself, not only later at the private schema it calls into.
    const [row] = await sql<{ anon: boolean; authenticated: boolean }[]>`
      select
        has_function_privilege('anon', 'tollgate.consume_usage(text, bigint, text)', 'execute')
          as anon,
        has_function_privilege('authenticated', 'tollgate.consume_usage(text, bigint, text)', 'execute')
          as authenticated`
    expect(row).toEqual({ anon: false, authenticated: true })
  })

  it('does not let a signed-in user call the private function that takes a time (42501)', async () => {
    const user = await users.create()
    await expect(
      asUser(sql, user, (tx) => consumeAt(tx, user.id, 'api_calls', 1, '2099-01-01T00:00:00Z')),
    ).rejects.toHaveProperty('code', '42501')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })

  it('counts for the user in the claims, never for another', async () => {
    const alice = await users.create()
    const bob = await users.create()
    await asUser(sql, alice, (tx) => consumeNow(tx, 'api_calls', 3), { commit: true })
    expect(await counterOf(sql, alice.id, 'api_calls')).toMatchObject({ used: 3 })
    expect(await counterOf(sql, bob.id, 'api_calls')).toBeNull()
  })
})
