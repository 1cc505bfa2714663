import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { squashedVersions } from './migrate.ts'

/** The folder whose files are immutable once they are on main. */
export const MIGRATIONS_PATH = 'supabase/migrations'

/** A landed migration that a change edits, deletes or renames. */
export type LandedEdit = { status: string; file: string }

/**
 * The landed migrations that `git diff --name-status <base> -- supabase/migrations` output touches:
 * every file that existed at `<base>` and is modified (M), deleted (D), renamed away (R), or had its
 * type changed (T). Added (A) and copied (C) files are new migrations and are fine.
 */
export const editedLandedMigrations = (nameStatus: string): LandedEdit[] =>
  nameStatus
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const [status = '', first = ''] = line.split('\t')
      const kind = status.charAt(0)
      return ['M', 'D', 'R', 'T'].includes(kind) ? [{ status, file: first }] : []
    })

/** The commit a change is checked against, or why there is none to check against. */
export type Base = { commit: string } | { skip: string }

const git = (cwd: string, args: string[]): { ok: boolean; out: string; err: string } => {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' })
  return {
    ok: result.status === 0,
    out: (result.stdout ?? '').trim(),
    err: `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim(),
  }
}

/**
 * HEAD's first parent: on main, the main before the last merge or commit. None in a directory that
 * is not a git checkout, at a root commit, or in a shallow clone that lacks the parent.
 */
export const firstParent = (cwd: string): Base => {
  if (!git(cwd, ['rev-parse', '--git-dir']).ok) return { skip: `${cwd} is not a git checkout` }
  const parent = git(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^1^{commit}'])
  if (parent.ok) return { commit: parent.out }
  const shallow = git(cwd, ['rev-parse', '--is-shallow-repository']).out === 'true'
  return {
    skip: shallow
      ? 'shallow clone without HEAD^1 (fetch with --depth=2 or more to check)'
      : 'HEAD has no parent (root commit)',
  }
}

/**
 * The landed migrations the working tree has edited compared with `base`. The one exception: a
 * deletion of a migration whose version a baseline in the working tree names in its `-- squashes:`
 * header (its statements live on in the baseline, so its source may go; nothing else may).
 */
export const landedMigrationEdits = (cwd: string, base: string): LandedEdit[] => {
  const diff = git(cwd, ['diff', '--no-renames', '--name-status', base, '--', MIGRATIONS_PATH])
  if (!diff.ok) throw new Error(`git diff --name-status ${base} failed: ${diff.err}`)
  const dir = join(cwd, MIGRATIONS_PATH)
  const squashed = new Set(
    (existsSync(dir) ? readdirSync(dir) : [])
      .filter((name) => name.endsWith('.sql'))
      .flatMap((name) => squashedVersions(readFileSync(join(dir, name), 'utf8'))),
  )
  return editedLandedMigrations(diff.out).filter(
    (edit) => !(edit.status === 'D' && squashed.has(basename(edit.file).split('_')[0] ?? '')),
  )
}
