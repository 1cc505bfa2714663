import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createUser, type Sql, type TestUser } from '../../helpers/db.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'

// The outbox is shared by a whole database: claims take any due row. A database of its own keeps
// other test files' emails out of these claims (and these claims out of theirs).
let db: Built
beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
})
afterAll(async () => {
  await db?.close()
})
const external = inject('externalDatabase')

type Claimed = { notification_id: string; attempt: number; idempotency_key: string; kind: string; email: string | null }

const claim = (sql: Sql, batch = 10, lease = 120, max = 8) =>
  sql<Claimed[]>`select * from tollgate_private.claim_emails(${batch}, ${lease}, ${max})`

const finish = (sql: Sql, id: string, attempt: number, outcome: string, retryIn: number | null = null) =>
  sql<{ state: string | null }[]>`
    select tollgate_private.finish_email(${id}, ${attempt}, ${outcome}, ${outcome === 'sent' ? 'msg_1' : null},
      ${outcome === 'sent' ? null : 'boom'}, ${retryIn}) as state`

const stateOf = async (sql: Sql, id: string) =>
  (
    await sql<{ state: string; attempts: number; provider_message_id: string | null }[]>`
      select state, attempts, provider_message_id from tollgate_private.email_outbox where notification_id = ${id}`
  )[0]

describe.skipIf(external)('tollgate_private.claim_emails and finish_email', () => {
  it('two workers at once never claim the same email; a lapsed claim is taken again, and only the current claim records', async () => {
    const sql = db.sql
    const user: TestUser = await createUser(sql)
    for (let i = 0; i < 6; i++) {
      await sql`select tollgate_private.notify(${user.id}, 'plan_changed', ${`k${i}`}, 'T', 'B', '{}')`
    }
    const [a, b] = await Promise.all([
      sql.begin((tx) => claim(tx as unknown as Sql, 3)),
      sql.begin((tx) => claim(tx as unknown as Sql, 3)),
    ])
    const ids = [...(a ?? []), ...(b ?? [])].map((r) => r.notification_id)
    expect(ids).toHaveLength(6)
    expect(new Set(ids).size).toBe(6)
    expect((a ?? [])[0]?.email).toBe(user.email)
    expect(await claim(sql)).toEqual([])

    const first = a?.[0]
    if (!first) throw new Error('nothing claimed')
    // The worker crashed: its claim lapses and another worker takes the email (attempt 2, same key).
    await sql`update tollgate_private.email_outbox set next_attempt_at = now() - interval '1 second' where notification_id = ${first.notification_id}`
    const [again] = await claim(sql, 1)
    expect(again).toMatchObject({ notification_id: first.notification_id, attempt: 2, idempotency_key: first.idempotency_key })
    // The first worker's late answer changes nothing; the current claim's does.
    expect((await finish(sql, first.notification_id, 1, 'sent'))[0]?.state).toBeNull()
    expect(await stateOf(sql, first.notification_id)).toMatchObject({ state: 'sending', attempts: 2 })
    expect((await finish(sql, first.notification_id, 2, 'sent'))[0]?.state).toBe('sent')
    expect(await stateOf(sql, first.notification_id)).toEqual({ state: 'sent', attempts: 2, provider_message_id: 'msg_1' })

    // A retry is due again only after its delay; dead stays dead.
    const second = a?.[1]
    if (!second) throw new Error('nothing claimed')
    expect((await finish(sql, second.notification_id, 1, 'retry', 3600))[0]?.state).toBe('failed')
    expect((await claim(sql)).map((r) => r.notification_id)).not.toContain(second.notification_id)
    const third = a?.[2]
    if (!third) throw new Error('nothing claimed')
    expect((await finish(sql, third.notification_id, 1, 'dead'))[0]?.state).toBe('dead')
    await sql`update tollgate_private.email_outbox set next_attempt_at = now() - interval '1 second' where notification_id = ${third.notification_id}`
    expect((await claim(sql)).map((r) => r.notification_id)).not.toContain(third.notification_id)
  })

  it('gives up an email whose claim lapsed after the last attempt', async () => {
    const sql = db.sql
    const user = await createUser(sql)
    await sql`select tollgate_private.notify(${user.id}, 'plan_changed', 'only', 'T', 'B', '{}')`
    const [row] = await claim(sql, 1, 120, 1)
    if (!row) throw new Error('nothing claimed')
    await sql`update tollgate_private.email_outbox set next_attempt_at = now() - interval '1 second' where notification_id = ${row.notification_id}`
    expect(await claim(sql, 1, 120, 1)).toEqual([])
    expect(await stateOf(sql, row.notification_id)).toMatchObject({ state: 'dead', attempts: 1 })
  })
})
