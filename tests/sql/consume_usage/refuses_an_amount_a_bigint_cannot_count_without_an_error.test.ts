import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, asUser, type Tx } from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'
import { counterOf, ledgerOf, subscribe } from './support.ts'

// An amount the counter cannot add without passing bigint's largest value (REVIEW Notes: SQLSTATE
// 22003 "bigint out of range") is refused like any amount that does not fit: allowed false,
// nothing counted. Called as PostgREST runs the request.

const MAX = '9223372036854775807'

type Answer = { allowed: boolean; used: string; quota: string; remaining: string | null }

// Numbers as text: JSON numbers this large lose digits in JavaScript.
const consume = async (tx: Tx, metric: string, amount: string, key: string | null = null) => {
  await asPostgrestRequest(tx)
  const [row] = await tx<Answer[]>`
    select a ->> 'allowed' = 'true' as allowed, a ->> 'used' as used, a ->> 'quota' as quota,
      a ->> 'remaining' as remaining
    from tollgate.consume_usage(${metric}, ${amount}::bigint, ${key}::text) as a`
  if (!row) throw new Error('no answer')
  return row
}

const serviceConsume = async (tx: Tx, userId: string, metric: string, amount: string) => {
  await asPostgrestRequest(tx, 'POST', '/rpc/service_role_consume_usage')
  const [row] = await tx<Answer[]>`
    select a ->> 'allowed' = 'true' as allowed, a ->> 'used' as used
    from tollgate.service_role_consume_usage(${userId}::uuid, ${metric}, ${amount}::bigint) as a`
  if (!row) throw new Error('no answer')
  return row
}

describe('consume_usage of 9223372036854775807', () => {
  it('refuses it on a limited counter already in use, keyed or not', async ({ sql, user }) => {
    const answers = await asUser(
      sql,
      user,
      async (tx) => [
        await consume(tx, 'api_calls', '5'),
        await consume(tx, 'api_calls', MAX),
        await consume(tx, 'api_calls', MAX, 'huge-amount'),
      ],
      { commit: true },
    )
    expect(answers).toEqual([
      { allowed: true, used: '5', quota: '1000', remaining: '995' },
      { allowed: false, used: '5', quota: '1000', remaining: '995' },
      { allowed: false, used: '5', quota: '1000', remaining: '995' },
    ])
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 5 })
  })

  it('refuses it on an unlimited counter it would take past the largest bigint', async ({
    sql,
    user,
  }) => {
    await subscribe(sql, user.id, 'enterprise')
    const answers = await asUser(
      sql,
      user,
      async (tx) => [
        await consume(tx, 'projects', '2'),
        await consume(tx, 'projects', MAX),
        await consume(tx, 'projects', MAX, 'huge-unlimited'),
      ],
      { commit: true },
    )
    expect(answers).toEqual([
      { allowed: true, used: '2', quota: '-1', remaining: null },
      { allowed: false, used: '2', quota: '-1', remaining: null },
      { allowed: false, used: '2', quota: '-1', remaining: null },
    ])
    expect(await counterOf(sql, user.id, 'projects')).toMatchObject({ used: 2 })
    expect((await ledgerOf(sql, user.id)).map((row) => [row.amount, row.allowed])).toEqual([
      [2, true],
      [Number(MAX), false],
    ])
  })

  it('refuses it for the service role too', async ({ sql, user }) => {
    const answers = await asServiceRole(sql, async (tx) => [
      await serviceConsume(tx, user.id, 'storage_gb', '1'),
      await serviceConsume(tx, user.id, 'storage_gb', MAX),
    ])
    expect(answers).toEqual([
      { allowed: true, used: '1' },
      { allowed: false, used: '1' },
    ])
  })
})
