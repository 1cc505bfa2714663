import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  applyMigrations,
  applySeed,
  applySqlDir,
  listMigrations,
  SEED_FILE,
} from '../../packages/db/src/migrate.ts'
import { createScratchDatabase, ownerSql, type ScratchDatabase } from '../helpers/db.ts'

const external = inject('externalDatabase')

describe('the test database', () => {
  const sql = ownerSql()
  afterAll(() => sql.end())

  it('records every local migration in supabase_migrations.schema_migrations', async () => {
    const local = (await listMigrations()).map((m) => m.version)
    const rows = await sql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations order by version`
    expect(rows.map((r) => r.version)).toEqual(expect.arrayContaining(local))
  })

  it('re-applying the migrations is a no-op', async () => {
    expect(await applyMigrations(sql)).toEqual([])
  })

  it.skipIf(external || !existsSync(SEED_FILE))('has the seed applied and recorded', async () => {
    const [row] = await sql`
      select exists (
        select from supabase_migrations.seed_files where path = 'supabase/seed.sql'
      ) as seeded`
    expect(row).toEqual({ seeded: true })
  })
})

describe.skipIf(external)('applying files to a fresh database', () => {
  let dir = ''
  let scratch: ScratchDatabase
  let sql: postgres.Sql

  const write = async (path: string, text: string): Promise<string> => {
    const file = join(dir, path)
    await writeFile(file, text)
    return file
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-migrate-test-'))
    scratch = await createScratchDatabase()
    sql = postgres(scratch.url, { max: 2, onnotice: () => {}, prepare: false })
  })

  afterAll(async () => {
    await sql?.end()
    await scratch?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('applies nothing from a missing directory and skips a missing seed', async () => {
    expect(await applyMigrations(sql, join(dir, 'absent'))).toEqual([])
    expect(await applySeed(sql, join(dir, 'absent.sql'))).toBe(false)
    expect(await applySqlDir(sql, join(dir, 'absent'))).toEqual([])
  })

  it('applies pending migrations in order once and records them as the Supabase CLI does', async () => {
    const migrations = join(dir, 'migrations')
    await mkdir(migrations)
    await write(
      'migrations/20260101000002_add_rows.sql',
      "insert into app.things (name) values ('a;b'), ($$c$$);\n",
    )
    await write(
      'migrations/20260101000001_create_things.sql',
      '-- things\ncreate schema app;\ncreate table app.things (name text);\n',
    )
    await write('migrations/README.md', 'not a migration')

    expect(await applyMigrations(sql, migrations)).toEqual(['20260101000001', '20260101000002'])
    expect(await applyMigrations(sql, migrations)).toEqual([])

    const rows = await sql`
      select version, name, statements from supabase_migrations.schema_migrations order by version`
    expect(rows).toEqual([
      {
        version: '20260101000001',
        name: 'create_things',
        statements: ['-- things\ncreate schema app', 'create table app.things (name text)'],
      },
      {
        version: '20260101000002',
        name: 'add_rows',
        statements: ["insert into app.things (name) values ('a;b'), ($$c$$)"],
      },
    ])
    const things = await sql`select name from app.things order by name`
    expect(things.map((t) => t.name)).toEqual(['a;b', 'c'])
  })

  it('rolls a failing migration back entirely and keeps its SQLSTATE (42P01)', async () => {
    const migrations = join(dir, 'failing')
    await mkdir(migrations)
    await write(
      'failing/20260102000000_half_done.sql',
      'create table public.half_done (id int);\ninsert into missing_table values (1);\n',
    )
    const error = await applyMigrations(sql, migrations).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(postgres.PostgresError)
    expect(error).toHaveProperty('code', '42P01')
    expect(String((error as Error).message)).toContain('20260102000000_half_done.sql')
    const [row] = await sql`
      select pg_catalog.to_regclass('public.half_done') is null as gone,
        not exists (
          select from supabase_migrations.schema_migrations where version = '20260102000000'
        ) as unrecorded`
    expect(row).toEqual({ gone: true, unrecorded: true })
  })

  it('applies the seed and records its hash', async () => {
    const seed = await write('seed.sql', "insert into app.things (name) values ('seeded');")
    expect(await applySeed(sql, seed)).toBe(true)
    const [row] = await sql`
      select count(*)::int as n from supabase_migrations.seed_files where hash ~ '^[0-9a-f]{64}$'`
    expect(row).toEqual({ n: 1 })
  })

  it('applies a sql/ folder in file-name order, all or nothing', async () => {
    const declarative = join(dir, 'sql')
    await mkdir(declarative)
    await write('sql/0020_table.sql', 'create table decl.items (id int);')
    await write('sql/0010_schema.sql', 'create schema decl;')
    expect(await applySqlDir(sql, declarative)).toEqual(['0010_schema.sql', '0020_table.sql'])

    const broken = join(dir, 'broken')
    await mkdir(broken)
    await write('broken/0010_schema.sql', 'create schema broken;')
    await write('broken/0020_oops.sql', 'create table broken.t (id nonexistent_type);')
    await expect(applySqlDir(sql, broken)).rejects.toHaveProperty('code', '42704')
    const [row] = await sql`
      select not exists (select from pg_catalog.pg_namespace where nspname = 'broken') as gone`
    expect(row).toEqual({ gone: true })
  })
})
