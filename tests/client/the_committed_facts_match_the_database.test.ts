import { readFile } from 'node:fs/promises'
import { describe, expect, inject, it } from 'vitest'
import { LIVE_STATUSES } from '../../packages/client/src/database.facts.ts'
import { FACTS_FILE, generateFacts } from '../../packages/client/src/gen-types.ts'

describe('packages/client/src/database.facts.ts', () => {
  it('equals what npm run gen:types writes from a database built from the migrations', async () => {
    const fresh = await generateFacts(inject('databaseUrl'))
    const committed = await readFile(FACTS_FILE, 'utf8')
    if (committed !== fresh) {
      expect.fail(
        'database.facts.ts is stale: run npm run gen:types (DATABASE_URL = a database built from ' +
          `the migrations) and commit the result. Fresh output:\n${fresh}`,
      )
    }
    expect(committed).toBe(fresh)
  })

  it('gives the client the live statuses SQL keeps (incomplete is not live)', () => {
    expect(LIVE_STATUSES).toContain('past_due')
    expect(LIVE_STATUSES).not.toContain('incomplete')
  })
})
