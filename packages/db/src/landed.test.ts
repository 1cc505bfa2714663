import { describe, expect, it } from 'vitest'
import { editedLandedMigrations } from './landed.ts'

describe('editedLandedMigrations', () => {
  it('flags a modified, deleted, renamed or retyped landed migration', () => {
    const nameStatus = [
      'M\tsupabase/migrations/20250101000000_init.sql',
      'D\tsupabase/migrations/20250102000000_gone.sql',
      'R087\tsupabase/migrations/20250103000000_old.sql\tsupabase/migrations/20250103000000_new.sql',
      'T\tsupabase/migrations/20250104000000_link.sql',
    ].join('\n')
    expect(editedLandedMigrations(nameStatus)).toEqual([
      { status: 'M', file: 'supabase/migrations/20250101000000_init.sql' },
      { status: 'D', file: 'supabase/migrations/20250102000000_gone.sql' },
      { status: 'R087', file: 'supabase/migrations/20250103000000_old.sql' },
      { status: 'T', file: 'supabase/migrations/20250104000000_link.sql' },
    ])
  })

  it('accepts added and copied migrations and an empty diff', () => {
    const nameStatus = [
      'A\tsupabase/migrations/20261205000000_plan_badge.sql',
      'C100\tsupabase/migrations/20250101000000_init.sql\tsupabase/migrations/20261205000001_copy.sql',
      '',
    ].join('\n')
    expect(editedLandedMigrations(nameStatus)).toEqual([])
    expect(editedLandedMigrations('')).toEqual([])
  })
})
