import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type ErrorCode, ErrorCodes } from '../../packages/core/src/errors.ts'
import { REPO_ROOT, SQL_DIR } from '../../packages/db/src/migrate.ts'

const REGISTRY_FILE = join(REPO_ROOT, 'packages', 'core', 'src', 'errors.ts')
const PACKAGES_DIR = join(REPO_ROOT, 'packages')

// Classes of the SQLSTATEs Postgres itself defines (PostgreSQL docs, Appendix A).
const STANDARD_CLASSES = new Set([
  ...['00', '01', '02', '03', '08', '09', '0A', '0B', '0F', '0L', '0P', '0Z'],
  ...['20', '21', '22', '23', '24', '25', '26', '27', '28', '2B', '2D', '2F'],
  ...['34', '38', '39', '3B', '3D', '3F', '40', '42', '44', '53', '54', '55', '57', '58', '72'],
  ...['F0', 'HV', 'P0', 'XX'],
])

const isStandard = (code: string): boolean => STANDARD_CLASSES.has(code.slice(0, 2))

// `using errcode = 'QUOTA'`, `raise sqlstate 'QUOTA'` and `raise_error('QUOTA', …)`; condition
// names (unique_violation) are standard.
const RAISED =
  /\berrcode\s*=\s*'([^']*)'|\braise\s+sqlstate\s+'([^']*)'|\braise_error\s*\(\s*'([^']*)'/gi
const SQLSTATE = /^[0-9A-Z]{5}$/

// The one helper that may raise PostgREST's own form (STYLE rule 21), and the statuses it maps.
const HELPER_FILE = 'sql/0060_function_raise_error.sql'
const HELPER_CALL = /\braise_error\s*\(\s*'([^']*)'/gi
const HELPER_STATUS = /\bwhen\s+'([0-9A-Z]{5})'\s+then\s+(\d{3})\b/g
// SQLSTATEs PostgREST gives a meaning of its own (docs.postgrest.org, errors: RAISE errors).
const isPostgrests = (code: string): boolean => code === 'PGRST' || /^PT\d{3}$/.test(code)

const sqlFiles = async (): Promise<{ file: string; text: string }[]> => {
  const names = (await readdir(SQL_DIR)).filter((name) => name.endsWith('.sql')).sort()
  return Promise.all(
    names.map(async (name) => ({
      file: `sql/${name}`,
      text: await readFile(join(SQL_DIR, name), 'utf8'),
    })),
  )
}

const packageSources = async (): Promise<{ file: string; text: string }[]> => {
  const entries = await readdir(PACKAGES_DIR, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((e) => e.isFile() && /\.(ts|sql)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !file.includes('node_modules') && file !== REGISTRY_FILE)
  return Promise.all(
    files.map(async (file) => ({
      file: relative(REPO_ROOT, file),
      text: await readFile(file, 'utf8'),
    })),
  )
}

const raisedCodes = async (): Promise<{ code: string; file: string }[]> =>
  (await sqlFiles()).flatMap(({ file, text }) =>
    [...text.matchAll(RAISED)]
      .map((match) => match[1] ?? match[2] ?? match[3] ?? '')
      .filter((code) => SQLSTATE.test(code))
      .map((code) => ({ code, file })),
  )

const helperCalls = async (): Promise<{ code: string; file: string }[]> =>
  (await sqlFiles()).flatMap(({ file, text }) =>
    [...text.matchAll(HELPER_CALL)].map((match) => ({ code: match[1] ?? '', file })),
  )

const helperStatuses = async (): Promise<Map<string, number>> => {
  const helper = (await sqlFiles()).find(({ file }) => file === HELPER_FILE)
  if (!helper) throw new Error(`${HELPER_FILE} is missing`)
  return new Map(
    [...helper.text.matchAll(HELPER_STATUS)].map((match) => [match[1] ?? '', Number(match[2])]),
  )
}

describe('the error registry', () => {
  it('lists every non-standard SQLSTATE raised in sql/', async () => {
    const raised = await raisedCodes()
    expect(raised.map((r) => r.code)).toContain('QUOTA')
    const registered = new Set(Object.keys(ErrorCodes))
    const missing = raised
      .filter((r) => !isStandard(r.code) && !registered.has(r.code))
      .filter((r) => !(r.file === HELPER_FILE && r.code === 'PGRST'))
      .map((r) => `${r.code} (${r.file})`)
    expect(missing).toEqual([])
  })

  it('holds only codes outside the standard SQLSTATE classes', () => {
    const clashing = Object.keys(ErrorCodes).filter(
      (code) => !SQLSTATE.test(code) || isStandard(code),
    )
    expect(clashing).toEqual([])
  })

  it('holds no code that nothing in sql/ or packages/ uses', async () => {
    const raised = new Set((await raisedCodes()).map((r) => r.code))
    const sources = await packageSources()
    const unused = Object.keys(ErrorCodes).filter(
      (code) =>
        !raised.has(code) &&
        !sources.some(({ text }) => new RegExp(`['"\`]${code}['"\`]`).test(text)),
    )
    expect(Object.keys(ErrorCodes).length).toBeGreaterThan(0)
    expect(unused).toEqual([])
  })

  it("raises PostgREST's own SQLSTATEs (PGRST, PTnnn) only in the raise_error helper", async () => {
    const raised = await raisedCodes()
    expect(raised).toContainEqual({ code: 'PGRST', file: HELPER_FILE })
    const elsewhere = raised
      .filter((r) => isPostgrests(r.code) && r.file !== HELPER_FILE)
      .map((r) => `${r.code} (${r.file})`)
    expect(elsewhere).toEqual([])
  })

  it('gives raise_error the status the registry gives each code it maps', async () => {
    const statuses = await helperStatuses()
    expect(statuses.get('QUOTA')).toBe(429)
    const registryStatus = (code: string) => ErrorCodes[code as ErrorCode]?.status
    const differing = [...statuses]
      .filter(([code, status]) => registryStatus(code) !== status)
      .map(([code, status]) => `${code}: ${status} in SQL, ${registryStatus(code)} in the registry`)
    expect(differing).toEqual([])
  })

  it('maps every code sql/ raises through raise_error', async () => {
    const calls = await helperCalls()
    expect(calls.map((c) => c.code)).toContain('NOMET')
    const statuses = await helperStatuses()
    const unmapped = calls.filter((c) => !statuses.has(c.code)).map((c) => `${c.code} (${c.file})`)
    expect(unmapped).toEqual([])
  })
})
