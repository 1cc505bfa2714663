import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'

type LockEntry = { optionalDependencies?: Record<string, string> }
type Lockfile = { packages: Record<string, LockEntry> }

// `npm ci` refuses a lockfile in which a package's optional dependency has no entry of its own.
// npm 11 can drop the other platforms' binaries (deno, supabase CLI, esbuild, ...) from the lockfile
// when it rewrites it (npm/cli#8320); this finds such holes before CI's `npm ci` does.
/** Optional dependencies (`<entry> -> <name>`) that no lockfile entry resolves, as Node resolves them. */
const unresolvedOptionals = (lock: Lockfile): string[] => {
  const missing: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      // Look in the entry's own node_modules, then in each enclosing one up to the root.
      let base = path
      let found = false
      for (;;) {
        if (lock.packages[`${base === '' ? '' : `${base}/`}node_modules/${name}`]) {
          found = true
          break
        }
        if (base === '') break
        const cut = base.lastIndexOf('/node_modules/')
        base = cut < 0 ? '' : base.slice(0, cut)
      }
      if (!found) missing.push(`${path === '' ? '(root)' : path} -> ${name}`)
    }
  }
  return missing
}

const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile

describe('package-lock.json', () => {
  it('has an entry for every optional dependency of every package, all platforms included', () => {
    expect(unresolvedOptionals(lock)).toEqual([])
  })

  it('lists the Deno and Supabase CLI binaries of other platforms than this one', () => {
    expect(Object.keys(lock.packages)).toEqual(
      expect.arrayContaining([
        'node_modules/@deno/darwin-arm64',
        'node_modules/@deno/win32-x64',
        'node_modules/@supabase/cli-darwin-arm64',
        'node_modules/@supabase/cli-windows-x64',
      ]),
    )
  })

  it('would be reported with the binary npm left out', () => {
    const { 'node_modules/@deno/darwin-arm64': _dropped, ...packages } = lock.packages
    expect(unresolvedOptionals({ packages })).toEqual(['node_modules/deno -> @deno/darwin-arm64'])
  })
})
