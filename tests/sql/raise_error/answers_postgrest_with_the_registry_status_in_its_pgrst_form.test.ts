import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { ErrorCodes } from '../../../packages/core/src/errors.ts'
import { asUser, pgError, withRollback } from '../../helpers/db.ts'
import { asPostgrestRequest, RAISED_CODES, raiseError } from './support.ts'

const notBadRequest = RAISED_CODES.filter((code) => ErrorCodes[code].status !== 400)
const badRequest = RAISED_CODES.filter((code) => ErrorCodes[code].status === 400)

describe('raise_error inside a PostgREST request', () => {
  it.for(notBadRequest)(
    'raises %s as PGRST with the body in the message and the registry status in the detail',
    async (code, { sql }) => {
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

  it('sends a missing detail and hint as null', async ({ sql }) => {
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

  it.for(badRequest)(
    'raises %s as itself: PostgREST answers a custom SQLSTATE 400',
    async (code, { sql }) => {
      const error = await withRollback(sql, async (tx) => {
        await asPostgrestRequest(tx)
        return pgError(raiseError(tx, code, 'Bad input', 'the detail'))
      })
      expect(error).toMatchObject({ code, message: 'Bad input', detail: 'the detail' })
    },
  )

  it('reaches a signed-in caller of tollgate.consume_usage as PGRST 404 (NOMET)', async ({
    sql,
    user,
  }) => {
    const error = await asUser(sql, user, async (tx) => {
      await asPostgrestRequest(tx)
      return pgError(tx`select tollgate.consume_usage('no_such_metric')`)
    })
    expect(error.code).toBe('PGRST')
    expect(JSON.parse(error.message)).toMatchObject({ code: 'NOMET' })
    expect(JSON.parse(error.detail ?? '')).toEqual({ status: 404, headers: {} })
  })
})
