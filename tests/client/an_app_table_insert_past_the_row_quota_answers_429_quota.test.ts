import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../packages/core/src/errors.ts'
import { createFakePostgrest, type FakePostgrest } from '../helpers/fake-postgrest.ts'
import { type AppTable, createAppTable } from '../sql/row_quota/app_table.ts'
import {
  type ClientStack,
  clientOfFake,
  JWT_SECRET,
  postgrestUrl,
  startClientStack,
} from './support.ts'

// An app's own table (exposed in its own schema) with tollgate_private.tg__enforce_row_quota:
// the insert past the plan's limit reaches the app as PostgREST's 429 with code QUOTA.
let stack: ClientStack
let table: AppTable
let postgrest: FakePostgrest
beforeAll(async () => {
  stack = await startClientStack()
  table = await createAppTable(stack.sql)
  postgrest = createFakePostgrest({
    databaseUrl: postgrestUrl(),
    jwtSecret: JWT_SECRET,
    schemas: [table.schema],
    served: table.schema,
  })
})
afterAll(async () => {
  await postgrest?.close()
  // The projects reference the users stack.close() deletes.
  await table?.drop()
  await stack?.close()
})

describe('an insert into an app table with a row quota, through PostgREST', () => {
  it('is answered 201 up to the limit, then 429 QUOTA with the counts, adding no row', async () => {
    const caller = await stack.signIn()
    const app = await clientOfFake(postgrest, caller.token, table.schema)

    // The free plan allows 3 projects.
    for (const name of ['one', 'two', 'three']) {
      const { status, error } = await app.from('projects').insert({ user_id: caller.id, name })
      expect({ status, error }).toEqual({ status: 201, error: null })
    }
    const refused = await app.from('projects').insert({ user_id: caller.id, name: 'four' })

    expect(refused.status).toBe(ErrorCodes.QUOTA.status)
    expect(refused.error).toMatchObject({
      code: 'QUOTA',
      message: 'Quota for projects is used up (3 of 3)',
      hint: 'Upgrade the plan or remove something first.',
    })
    expect(JSON.parse(refused.error?.details ?? '')).toMatchObject({
      allowed: false,
      metric: 'projects',
      used: 3,
      quota: 3,
      remaining: 0,
    })
    const { data } = await app.from('projects').select('name').order('name')
    expect(data).toEqual([{ name: 'one' }, { name: 'three' }, { name: 'two' }])
    const usage = await caller.tollgate.myUsage()
    expect(usage.find((u) => u.metric === 'projects')).toMatchObject({ used: 3, remaining: 0 })
  })

  it('refuses a multi-row insert past the limit as a whole (429 QUOTA)', async () => {
    const caller = await stack.signIn()
    const app = await clientOfFake(postgrest, caller.token, table.schema)

    const rows = ['a', 'b', 'c', 'd'].map((name) => ({ user_id: caller.id, name }))
    const refused = await app.from('projects').insert(rows)

    expect({ status: refused.status, code: refused.error?.code }).toEqual({
      status: 429,
      code: 'QUOTA',
    })
    const { data } = await app.from('projects').select('name')
    expect(data).toEqual([])
  })
})
