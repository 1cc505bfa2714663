import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import {
  codesRaisedThroughHelper,
  RAISE_ERROR_FILE,
  withStatusCase,
} from '../../packages/core/src/errors-sql.ts'

// packages/core/src/errors.ts is the registry; raise_error's status CASE is generated from it.
describe('sql/0060_function_raise_error.sql', () => {
  it('holds the status CASE npm run gen:errors writes from the registry', async () => {
    const committed = await readFile(RAISE_ERROR_FILE, 'utf8')
    const codes = await codesRaisedThroughHelper()
    expect(codes).toContain('QUOTA')
    const fresh = withStatusCase(committed, codes)
    if (committed !== fresh) {
      expect.fail(
        'raise_error\'s status CASE is stale: run npm run gen:errors, then npm run db:diff -- <name>, ' +
          'and commit both.',
      )
    }
    expect(committed).toBe(fresh)
  })
})
