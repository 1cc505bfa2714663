import { describe, expect } from 'vitest'
import { asUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { subscribe } from './support.ts'

describe('an app table whose policy asks tollgate.has_feature', () => {
  it('shows its rows to a pro user (export) and none to a free user, as README shows the policy', async ({
    sql,
    users,
  }) => {
    const table = `public.reports_${Math.random().toString(36).slice(2, 10)}`
    // The policy exactly as README tells app developers to write it.
    await sql.unsafe(`
      create table ${table} (id int primary key, body text);
      alter table ${table} enable row level security;
      create policy "Plans with export read reports" on ${table}
        for select to authenticated
        using ((select tollgate.has_feature('export')));
      grant select on ${table} to authenticated;
      insert into ${table} select g, 'row ' || g from generate_series(1, 50) g;`)
    try {
      const pro = await users.create()
      const free = await users.create()
      await subscribe(sql, pro, 'pro')
      const count = (user: typeof pro) =>
        asUser(sql, user, (tx) => tx.unsafe(`select count(*)::int as n from ${table}`))
      expect(await count(pro)).toEqual([{ n: 50 }])
      expect(await count(free)).toEqual([{ n: 0 }])

      // Wrapped in (select ...), it runs once per statement: an InitPlan, not a call per row.
      const plan = await asUser(sql, pro, (tx) =>
        tx.unsafe(`explain (format json) select * from ${table}`))
      expect(JSON.stringify(plan)).toContain('InitPlan')
    } finally {
      await sql.unsafe(`drop table ${table}`)
    }
  })
})
