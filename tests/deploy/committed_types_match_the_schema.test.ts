import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateTypes, TYPES_FILE } from '../../packages/client/src/gen-types.ts'
import { buildScratch, type Built } from '../schema/scratch.ts'

// The first differing line, so the failure says where the schema and the types part ways.
const firstDifference = (committed: string, fresh: string): string => {
  const a = committed.split('\n')
  const b = fresh.split('\n')
  const line = a.findIndex((text, i) => text !== b[i])
  const at = line === -1 ? a.length : line
  return `line ${at + 1}: committed ${JSON.stringify(a[at])}, schema gives ${JSON.stringify(b[at])}`
}

describe('packages/client/src/database.types.ts', () => {
  let built: Built
  let workdir = ''
  // On a mismatch the fresh output stays in the temp folder for a diff.
  let keep = false

  beforeAll(async () => {
    built = await buildScratch('migrations', { seed: true })
    workdir = await mkdtemp(join(tmpdir(), 'tollgate-types-'))
  })

  afterAll(async () => {
    await built?.close()
    if (workdir && !keep) await rm(workdir, { recursive: true, force: true })
  })

  it('equals what supabase gen types prints for a database built from the migrations', async () => {
    const fresh = await generateTypes(built.url)
    const regenerated = join(workdir, 'database.types.ts')
    await writeFile(regenerated, fresh)
    const committed = await readFile(TYPES_FILE, 'utf8')

    expect(fresh).toMatch(/"?tollgate"?: \{/)
    if (committed !== fresh) {
      keep = true
      expect.fail(
        `database.types.ts is stale: run npm run gen:types (DATABASE_URL = a database built from ` +
          `the migrations) and commit the result. First difference at ` +
          `${firstDifference(committed, fresh)}; fresh output: ${regenerated}`,
      )
    }
    expect(committed).toBe(fresh)
  })
})
