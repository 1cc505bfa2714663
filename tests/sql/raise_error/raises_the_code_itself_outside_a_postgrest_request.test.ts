import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { RAISED_CODES, raiseError } from './support.ts'

// SQL callers, the edge functions and psql users set no request.method: they see the mnemonic.
describe('raise_error outside a PostgREST request', () => {
  it.for(RAISED_CODES)(
    'raises %s as that SQLSTATE with its message, detail and hint',
    async (code, { sql }) => {
      const error = await withRollback(sql, (tx) =>
        pgError(raiseError(tx, code, 'What went wrong', 'the detail', 'the hint')),
      )
      expect(error).toMatchObject({
        code,
        message: 'What went wrong',
        detail: 'the detail',
        hint: 'the hint',
      })
    },
  )

  it('leaves out a detail and hint it was not given', async ({ sql }) => {
    const error = await withRollback(sql, (tx) => pgError(raiseError(tx, 'QUOTA', 'Used up')))
    expect(error).toMatchObject({ code: 'QUOTA', message: 'Used up' })
    expect(error.detail).toBeUndefined()
    expect(error.hint).toBeUndefined()
  })

  it('raises the code itself once a PostgREST request on the same session has ended', async () => {
    // A pooled connection keeps request.method defined (empty) after PostgREST's transaction.
    const pool = ownerSql({ max: 1 })
    try {
      await pool`select pg_catalog.set_config('request.method', 'POST', true)`
      const error = await pgError(raiseError(pool, 'NOMET', 'Unknown metric x'))
      expect(error.code).toBe('NOMET')
    } finally {
      await pool.end()
    }
  })

  it('reaches a signed-in caller of tollgate.consume_usage as NOMET', async ({ sql, user }) => {
    const error = await asUser(sql, user, (tx) =>
      pgError(tx`select tollgate.consume_usage('no_such_metric')`),
    )
    expect(error.code).toBe('NOMET')
  })
})
