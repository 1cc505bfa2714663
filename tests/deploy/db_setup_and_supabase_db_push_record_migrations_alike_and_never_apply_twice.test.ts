import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { listMigrations } from '../../packages/db/src/migrate.ts'
import { dumpTollgateSchemas, openScratch, type Built } from '../schema/scratch.ts'
import { dbPush, migrationList, runCommand } from './supabase-cli.ts'

// Scratch databases need a cluster of our own (as in tests/schema/migrations.test.ts).
const external = inject('externalDatabase')

// `npm run db:setup` exactly as the README documents it, on one database.
const dbSetup = (url: string) =>
  runCommand('npm', ['run', '--silent', 'db:setup'], { env: { DATABASE_URL: url } })

type History = {
  migrations: { version: string; name: string; statements: string[] }[]
  seeds: { path: string; hash: string }[]
}

const historyOf = async (db: Built): Promise<History> => ({
  migrations: await db.sql<History['migrations']>`
    select version, name, statements from supabase_migrations.schema_migrations order by version`,
  seeds: await db.sql<History['seeds']>`
    select path, hash from supabase_migrations.seed_files order by path`,
})

describe.skipIf(external)('npm run db:setup and supabase db push', () => {
  let viaSetup: Built
  let viaPush: Built
  let versions: string[] = []

  beforeAll(async () => {
    ;[viaSetup, viaPush] = await Promise.all([openScratch(), openScratch()])
    versions = (await listMigrations()).map((m) => m.version)
  })

  afterAll(async () => {
    await Promise.all([viaSetup?.close(), viaPush?.close()])
  })

  it('db push after db:setup applies nothing, and migration list shows every migration applied', async () => {
    const setup = await dbSetup(viaSetup.url)
    expect(setup.code, setup.stderr).toBe(0)
    expect(setup.stdout).toContain(`migrations: ${versions.join(', ')}`)
    expect(setup.stdout).toContain('seed: applied')

    const listed = await migrationList(viaSetup.url)
    expect(listed.migrations).toEqual(
      versions.map((version) => expect.objectContaining({ local: version, remote: version })),
    )

    const schema = await dumpTollgateSchemas(viaSetup.superuserUrl)
    const history = await historyOf(viaSetup)
    const pushed = await dbPush(viaSetup.url, ['--include-seed'])
    expect(pushed).toMatchObject({ upToDate: true, migrations: [], seeds: [] })
    expect(await historyOf(viaSetup)).toEqual(history)
    expect(await dumpTollgateSchemas(viaSetup.superuserUrl)).toBe(schema)
  })

  it('db push records migrations and seed exactly as db:setup does (version, name, statements, hash)', async () => {
    const pushed = await dbPush(viaPush.url, ['--include-seed'])
    expect(pushed.migrations).toHaveLength(versions.length)
    expect(pushed.seeds).toEqual(['supabase/seed.sql'])
    const cli = await historyOf(viaPush)
    expect(cli.migrations.map((m) => m.version)).toEqual(versions)
    expect(cli).toEqual(await historyOf(viaSetup))
  })

  it('db:setup after db push applies no migration again', async () => {
    const schema = await dumpTollgateSchemas(viaPush.superuserUrl)
    const migrations = (await historyOf(viaPush)).migrations
    const setup = await dbSetup(viaPush.url)
    expect(setup.code, setup.stderr).toBe(0)
    expect(setup.stdout).toContain('migrations: none new')
    expect((await historyOf(viaPush)).migrations).toEqual(migrations)
    expect(await dumpTollgateSchemas(viaPush.superuserUrl)).toBe(schema)
  })
})
