import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../packages/core/src/errors.ts'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

type Fn = { name: string; source: string; entry: boolean }

// A Tollgate code raised directly: `using errcode = 'QUOTA'` or `raise sqlstate 'QUOTA'`.
const DIRECT = /\berrcode\s*=\s*'([0-9A-Z]{5})'|\braise\s+sqlstate\s+'([0-9A-Z]{5})'/gi
const CALLED = /\btollgate(?:_private)?\.([a-z_][a-z0-9_]*)\s*\(/g

// Entry points of an API request: what anon, authenticated or service_role may execute, and
// trigger functions (they fire on writes made through PostgREST, app tables included).
const functions = () =>
  sql<Fn[]>`
    select n.nspname || '.' || p.proname as name, p.prosrc as source,
      p.prorettype = 'trigger'::regtype
        or pg_catalog.has_function_privilege('anon', p.oid, 'execute')
        or pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
        or pg_catalog.has_function_privilege('service_role', p.oid, 'execute') as entry
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('tollgate', 'tollgate_private')
    order by 1`

const reachable = (all: Fn[]): Fn[] => {
  const byName = new Map(all.map((fn) => [fn.name, fn]))
  const seen = new Set<string>()
  const queue = all.filter((fn) => fn.entry)
  while (queue.length > 0) {
    const fn = queue.pop() as Fn
    if (seen.has(fn.name)) continue
    seen.add(fn.name)
    for (const match of fn.source.matchAll(CALLED)) {
      const schema = match[0].startsWith('tollgate_private.') ? 'tollgate_private' : 'tollgate'
      const callee = byName.get(`${schema}.${match[1]}`)
      if (callee && !seen.has(callee.name)) queue.push(callee)
    }
  }
  return all.filter((fn) => seen.has(fn.name))
}

describe('Tollgate errors an API request can meet', () => {
  it('are raised through raise_error, so PostgREST answers with their status', async () => {
    const reached = reachable(await functions())
    const names = reached.map((fn) => fn.name)
    // The walk reaches the RPCs, what they call, and the row-quota trigger.
    expect(names).toEqual(
      expect.arrayContaining([
        'tollgate.consume_usage',
        'tollgate.service_role_release_usage',
        'tollgate_private.consume_usage_of_caller',
        'tollgate_private.record_usage',
        'tollgate_private.apply_usage',
        'tollgate_private.tg__enforce_row_quota',
        'tollgate_private.raise_error',
      ]),
    )
    // Edge functions call these over SQL only; PostgREST never reaches them.
    expect(names).not.toContain('tollgate_private.prepare_checkout')

    const direct = reached
      .filter((fn) => fn.name !== 'tollgate_private.raise_error')
      .flatMap((fn) =>
        [...fn.source.matchAll(DIRECT)]
          .map((match) => match[1] ?? match[2] ?? '')
          .filter((code) => code in ErrorCodes || code === 'PGRST' || code.startsWith('PT'))
          .map((code) => `${code} in ${fn.name}`),
      )
    expect(direct).toEqual([])
  })
})
