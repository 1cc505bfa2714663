import { execFileSync } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { firstParent, landedMigrationEdits } from '../../packages/db/src/landed.ts'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'

// main's first parent: the migrations that had landed before the change being checked.
const base = firstParent(REPO_ROOT)
if ('skip' in base) console.log(`landed migrations check skipped: ${base.skip}`)

describe('landed migrations', () => {
  test.skipIf('skip' in base)(
    'no file under supabase/migrations that exists on HEAD^1 is modified, deleted or renamed',
    () => {
      if (!('commit' in base)) return
      const edits = landedMigrationEdits(REPO_ROOT, base.commit)
      expect(
        edits,
        'landed migrations are immutable: add a new one with `npm run db:diff -- <name>` instead',
      ).toEqual([])
    },
  )

  test('the check sees an edit, a deletion and a rename in a real repository, and lets a baseline replace what it squashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-landed-'))
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      })
    try {
      git('init', '-q')
      const migrations = join(dir, 'supabase', 'migrations')
      await mkdir(migrations, { recursive: true })
      for (const version of ['20260101000001', '20260101000002', '20260101000003', '20260101000004']) {
        await writeFile(join(migrations, `${version}_m.sql`), `create table t${version} ();\n`)
      }
      git('add', '.')
      git('commit', '-q', '-m', 'landed')
      const root = firstParent(dir)
      expect(root).toEqual({ skip: 'HEAD has no parent (root commit)' })

      await writeFile(join(dir, 'supabase/migrations/29990101000000_new.sql'), 'select 1;\n')
      git('add', '.')
      git('commit', '-q', '-m', 'a new migration')
      const parent = firstParent(dir)
      if (!('commit' in parent)) throw new Error(`no parent: ${parent.skip}`)
      expect(landedMigrationEdits(dir, parent.commit)).toEqual([])

      const [first, second, third, fourth] = git('ls-files', 'supabase/migrations').trim().split('\n')
      if (!first || !second || !third || !fourth) throw new Error('needs four landed migrations')
      await appendFile(join(dir, first), '-- an edit\n')
      await unlink(join(dir, second))
      git('mv', third, 'supabase/migrations/29990101000001_renamed.sql')
      expect(landedMigrationEdits(dir, parent.commit)).toEqual([
        { status: 'M', file: first },
        { status: 'D', file: second },
        { status: 'D', file: third },
      ])

      // A baseline may take the place of the versions its `-- squashes:` header names, only those:
      // the edited first one, and the fourth it does not name, are still reported.
      await writeFile(
        join(dir, 'supabase/migrations/29990101000002_baseline.sql'),
        '-- generated\n-- squashes: 20260101000001 20260101000002 20260101000003\n\ncreate table t ();\n',
      )
      await unlink(join(dir, fourth))
      expect(landedMigrationEdits(dir, parent.commit)).toEqual([
        { status: 'M', file: first },
        { status: 'D', file: fourth },
      ])
      await unlink(join(dir, first))
      expect(landedMigrationEdits(dir, parent.commit)).toEqual([{ status: 'D', file: fourth }])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
