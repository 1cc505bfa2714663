import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../../packages/core/src/errors.ts'
import { asUser, ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { testUsers } from '../consume_usage/support.ts'
import { asPostgrestRequest, RAISED_CODES, raiseError } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

const notBadRequest = RAISED_CODES.filter((code) => ErrorCodes[code].status !== 400)
const badRequest = RAISED_CODES.filter((code) => ErrorCodes[code].status === 400)

describe('raise_error inside a PostgREST request', () => {
  it.each(notBadRequest)(
    'raises %s as PGRST with the body in the message and the registry status in the detail',
    async (code) => {
      const error = await withRollback(sql, async (tx) => {
        await asPostgrestRequest(tx)
        return pgError(raiseError(tx, code, 'What went wrong', 'the detail', 'the hint'))
      })
      expect(error.code).toBe('PGRST')
      expect(JSON.parse(error.message)).toEqual({
        code,
        message: 'What went wrong',
        details: 'the detail',
        hint: 'the hint',
      })
      const { status, headers } = JSON.parse(error.detail ?? '')
      expect(status).toBe(ErrorCodes[code].status)
      expect(headers).toEqual(status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {})
    },
  )

  it('sends a missing detail and hint as null', async () => {
    const error = await withRollback(sql, async (tx) => {
      await asPostgrestRequest(tx)
      return pgError(raiseError(tx, 'NOMET', 'Unknown metric x'))
    })
    expect(JSON.parse(error.message)).toEqual({
      code: 'NOMET',
      message: 'Unknown metric x',
      details: null,
      hint: null,
    })
    expect(JSON.parse(error.detail ?? '')).toEqual({ status: 404, headers: {} })
  })

  it.each(badRequest)(
    'raises %s as itself: PostgREST answers a custom SQLSTATE 400',
    async (code) => {
      const error = await withRollback(sql, async (tx) => {
        await asPostgrestRequest(tx)
        return pgError(raiseError(tx, code, 'Bad input', 'the detail'))
      })
      expect(error).toMatchObject({ code, message: 'Bad input', detail: 'the detail' })
    },
  )

  it('reaches a signed-in caller of tollgate.consume_usage as PGRST 404 (NOMET)', async () => {
    const user = await users.create()
    const error = await asUser(sql, user, async (tx) => {
      await asPostgrestRequest(tx)
      return pgError(tx`select tollgate.consume_usage('no_such_metric')`)
    })
    expect(error.code).toBe('PGRST')
    expect(JSON.parse(error.message)).toMatchObject({ code: 'NOMET' })
    expect(JSON.parse(error.detail ?? '')).toEqual({ status: 404, headers: {} })
  })
})
