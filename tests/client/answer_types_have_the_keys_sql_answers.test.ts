import { afterAll, describe, expect, it } from 'vitest'
import type { ConsumeResult, CreatedApiKey, Usage } from '../../packages/client/src/answers.ts'
import { asUser, createUser, ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

// The JSON kind of a value; the maps below are checked against the types by tsc (each key of the
// type once, with the kind its type allows), and against real answers here.
type Kind = 'boolean' | 'number' | 'string' | 'number|null' | 'string|null' | 'array'
type KindOf<T> = [T] extends [boolean]
  ? 'boolean'
  : [T] extends [number]
    ? 'number'
    : [T] extends [string]
      ? 'string'
      : [T] extends [number | null]
        ? 'number|null'
        : [T] extends [string | null]
          ? 'string|null'
          : [T] extends [readonly unknown[]]
            ? 'array'
            : never
type Shape<T> = { [K in keyof T]-?: KindOf<T[K]> }

const CONSUME: Shape<ConsumeResult> = {
  allowed: 'boolean',
  metric: 'string',
  used: 'number',
  quota: 'number',
  remaining: 'number|null',
  period_end: 'string|null',
  credits_remaining: 'number',
  credits_drawn: 'number',
}
const USAGE: Shape<Usage> = {
  metric: 'string',
  period: 'string',
  period_start: 'string|null',
  period_end: 'string|null',
  used: 'number',
  quota: 'number',
  remaining: 'number|null',
  credits: 'number',
}

const CREATED_KEY: Shape<CreatedApiKey> = {
  id: 'string',
  key: 'string',
  prefix: 'string',
  name: 'string',
  scopes: 'array',
  created_at: 'string',
  expires_at: 'string|null',
}

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value

// Each key the answer has and the type lacks, or the type has and the answer lacks, or whose
// value is of a kind the type does not allow.
const mismatches = (shape: Record<string, Kind>, answer: Record<string, unknown>): string[] => [
  ...Object.keys(answer)
    .filter((key) => !(key in shape))
    .map((key) => `${key}: answered, not in the type`),
  ...Object.entries(shape).flatMap(([key, kind]) =>
    !(key in answer)
      ? [`${key}: in the type, not answered`]
      : kind.split('|').includes(kindOf(answer[key]))
        ? []
        : [`${key}: answered ${kindOf(answer[key])}, the type says ${kind}`],
  ),
]

describe('the answer types of packages/client/src/answers.ts', () => {
  it('ConsumeResult has the keys and kinds tollgate.consume_usage answers, allowed or refused', async () => {
    const user = await createUser(sql)
    const answers = await asUser(sql, user, async (tx) => {
      const call = async (metric: string, amount: number): Promise<Record<string, unknown>> => {
        const [row] = await tx<{ answer: Record<string, unknown> }[]>`
          select tollgate.consume_usage(${metric}, ${amount}) as answer`
        return row?.answer ?? {}
      }
      // projects never resets (period_end null); api_calls is monthly; 4 projects pass free's 3.
      return [await call('projects', 1), await call('api_calls', 1), await call('projects', 3)]
    })
    expect(answers.map((a) => a.allowed)).toEqual([true, true, false])
    expect(answers.map((a) => kindOf(a.period_end))).toEqual(['null', 'string', 'null'])
    expect(answers.flatMap((answer) => mismatches(CONSUME, answer))).toEqual([])
  })

  it('Usage has the keys and kinds of a tollgate.usage row (but its user_id)', async () => {
    const user = await createUser(sql)
    // As JSON, the way PostgREST answers the row (bigint as a number, timestamps as strings).
    const rows = (
      await asUser(sql, user, (tx) => tx<{ row: Record<string, unknown> }[]>`
        select to_jsonb(u) as row from tollgate.usage u where u.user_id = ${user.id} order by u.metric`)
    ).map((r) => r.row)
    expect(rows.map((r) => r.metric)).toEqual([
      'api_calls',
      'api_keys',
      'projects',
      'requests',
      'storage_gb',
    ])
    expect(
      rows.flatMap(({ user_id: _owner, ...row }) => mismatches(USAGE, row)),
    ).toEqual([])
  })

  it('CreatedApiKey has the keys and kinds tollgate.create_api_key answers, with and without an expiry', async () => {
    const user = await createUser(sql)
    const answers = await asUser(sql, user, async (tx) => [
      ...(await tx<{ answer: Record<string, unknown> }[]>`select tollgate.create_api_key('a') as answer`),
      ...(await tx<{ answer: Record<string, unknown> }[]>`
        select tollgate.create_api_key('b', '{read}', now() + interval '1 day') as answer`),
    ].map((r) => r.answer))
    expect(answers.map((a) => kindOf(a.expires_at))).toEqual(['null', 'string'])
    expect(answers.flatMap((answer) => mismatches(CREATED_KEY, answer))).toEqual([])
  })
})
