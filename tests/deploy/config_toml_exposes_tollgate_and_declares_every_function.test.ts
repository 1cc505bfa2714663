import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse, type TomlTable, type TomlValue } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { ownerSql } from '../helpers/db.ts'
import { cliUrl, supabase, supabaseJson } from './supabase-cli.ts'

const isTable = (value: TomlValue | undefined): value is TomlTable =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)

// The table at `path` (e.g. ['functions', 'billing']), or undefined.
const tableAt = (root: TomlTable, path: string[]): TomlTable | undefined => {
  let current: TomlValue | undefined = root
  for (const key of path) current = isTable(current) ? current[key] : undefined
  return isTable(current) ? current : undefined
}

const SUPABASE_DIR = join(REPO_ROOT, 'supabase')
const CONFIG_FILE = join(SUPABASE_DIR, 'config.toml')
const FUNCTIONS_DIR = join(REPO_ROOT, 'functions')
const WEBHOOKS = ['stripe-webhook', 'razorpay-webhook']

// Loading the config is the first thing `migration list` does; it then only reads the database.
const loadWithCli = (workdir?: string) =>
  supabase(['migration', 'list', `--remote=${cliUrl(inject('databaseUrl'))}`], { workdir })

// What the CLI says when it reads a key it does not know (and then ignores).
const UNKNOWN_KEYS = /does not recognize/i

// Copies of config.toml each broken in one way the CLI must refuse.
const BROKEN: [string, (text: string) => string][] = [
  ['a TOML syntax error', (text) => text.replace(/^\[db\]$/m, '[db')],
  [
    'verify_jwt given as a string',
    (text) => text.replace(/^verify_jwt = false$/m, 'verify_jwt = "false"'),
  ],
  [
    'a Postgres major version it has no image for (16)',
    (text) => text.replace(/^major_version = \d+$/m, 'major_version = 16'),
  ],
]

describe('supabase/config.toml', () => {
  let text = ''
  let config: TomlTable
  let scratchDir = ''

  beforeAll(async () => {
    text = await readFile(CONFIG_FILE, 'utf8')
    config = parse(text)
    scratchDir = await mkdtemp(join(tmpdir(), 'tollgate-config-'))
  })

  afterAll(async () => {
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true })
  })

  // A project folder holding only a copy of config.toml (possibly edited).
  const projectWith = async (name: string, configText: string): Promise<string> => {
    const dir = join(scratchDir, name.replaceAll(/[^a-z0-9]+/gi, '-'))
    await mkdir(join(dir, 'supabase'), { recursive: true })
    await writeFile(join(dir, 'supabase', 'config.toml'), configText)
    return dir
  }

  it('loads in the pinned Supabase CLI without errors or unknown keys', async () => {
    const result = await loadWithCli()
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).not.toMatch(UNKNOWN_KEYS)
    // A copy outside the repository loads too, so the broken copies below fail for their breakage.
    const copy = await loadWithCli(await projectWith('unchanged', text))
    expect(copy.code, copy.stderr).toBe(0)
  })

  it.each(BROKEN)('is refused by the CLI with %s', async (name, breakIt) => {
    const broken = breakIt(text)
    expect(broken, 'the breakage must change the file').not.toBe(text)
    const result = await loadWithCli(await projectWith(name, broken))
    expect(result.code).not.toBe(0)
    expect(`${result.stdout}${result.stderr}`).toMatch(/config/i)
  })

  it('exposes tollgate, public and graphql_public through the API', () => {
    const schemas = tableAt(config, ['api'])?.schemas
    expect(schemas).toEqual(expect.arrayContaining(['tollgate', 'public', 'graphql_public']))
  })

  it('pins [db] major_version to the Postgres major the tests run on, and the CLI reads it so', async () => {
    const sql = ownerSql({ max: 1 })
    let serverMajor: number
    try {
      const [row] = await sql<{ server_version_num: string }[]>`show server_version_num`
      serverMajor = Math.floor(Number(row?.server_version_num) / 10_000)
    } finally {
      await sql.end()
    }
    expect(tableAt(config, ['db'])?.major_version).toBe(serverMajor)
    // `supabase services` names the Postgres image the local stack would run: the CLI's reading.
    const result = await supabaseJson<{ services: { name: string; local: string }[] }>(['services'])
    const image = result.services.find((service) => service.name === 'supabase/postgres')
    expect(image?.local).toMatch(new RegExp(`^${serverMajor}\\.`))
  })

  it('declares one [functions.<name>] per folder in functions/, with existing entrypoint and import map', async () => {
    const folders = (await readdir(FUNCTIONS_DIR, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !/^[._]/.test(entry.name))
      .map((entry) => entry.name)
      .sort()
    expect(folders).toEqual(expect.arrayContaining(['billing', ...WEBHOOKS]))
    const declared = tableAt(config, ['functions']) ?? {}
    expect(Object.keys(declared).sort()).toEqual(folders)
    for (const name of folders) {
      const fn = tableAt(config, ['functions', name])
      expect(fn?.enabled, name).not.toBe(false)
      expect(fn?.entrypoint, name).toBe(`../functions/${name}/index.ts`)
      expect(existsSync(resolve(SUPABASE_DIR, String(fn?.entrypoint))), name).toBe(true)
      expect(typeof fn?.import_map, name).toBe('string')
      expect(existsSync(resolve(SUPABASE_DIR, String(fn?.import_map))), name).toBe(true)
    }
  })

  it("turns the gateway's JWT verification off for every function, which checks its callers itself", () => {
    // Webhooks check signatures; billing verifies tokens in requireUser, and must answer browsers'
    // preflights and the health GET, which carry none (absent would mean on: the CLI's default).
    for (const name of [...WEBHOOKS, 'billing']) {
      expect(tableAt(config, ['functions', name])?.verify_jwt, name).toBe(false)
    }
  })
})
