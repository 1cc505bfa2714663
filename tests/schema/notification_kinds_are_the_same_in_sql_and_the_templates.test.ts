import { afterAll, describe, expect, it } from 'vitest'
import { NOTIFICATION_KINDS, PAYMENT_KINDS } from '../../packages/notifications/src/kinds.ts'
import { ownerSql } from '../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('the notification kinds', () => {
  it('are the same list in SQL (notification_kinds, is_payment_kind) and in packages/notifications', async () => {
    const [row] = await sql<{ kinds: string[]; payment: string[] }[]>`
      select tollgate_private.notification_kinds() as kinds,
        array(select k from unnest(tollgate_private.notification_kinds()) k
          where tollgate_private.is_payment_kind(k) order by k) as payment`
    expect([...(row?.kinds ?? [])].sort()).toEqual([...NOTIFICATION_KINDS].sort())
    expect(row?.payment).toEqual([...PAYMENT_KINDS].sort())
  })

  it('bound what tollgate.notifications.kind accepts', async () => {
    const [row] = await sql<{ def: string }[]>`
      select pg_catalog.pg_get_constraintdef(c.oid) as def from pg_catalog.pg_constraint c
      where c.conrelid = 'tollgate.notifications'::regclass and c.contype = 'c'`
    expect(row?.def).toContain('notification_kinds()')
  })
})
