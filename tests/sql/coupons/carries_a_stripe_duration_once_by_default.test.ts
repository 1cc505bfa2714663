import { readFileSync } from 'node:fs'
import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { it, prepare } from './support.ts'

const seed = readFileSync(new URL('../../../supabase/seed.sql', import.meta.url), 'utf8')

type Terms = {
  code: string
  duration: string
  duration_in_months: number | null
  valid_until: Date | null
  created_at: Date
  stripe_coupon_id: string | null
}

const termsOf = async (q: Parameters<typeof prepare>[0], code: string): Promise<Terms> => {
  const [row] = await q<Terms[]>`
    select code, duration, duration_in_months, valid_until, created_at, stripe_coupon_id
    from tollgate_private.coupons where code = ${code}`
  if (!row) throw new Error(`no coupon ${code}`)
  return row
}

describe("a coupon's duration and window", () => {
  it('seeds WELCOME20 and STUDENT50 as introductory (once); WELCOME20 ends a year after seeding', async ({
    sql,
  }) => {
    const welcome = await termsOf(sql, 'WELCOME20')
    const student = await termsOf(sql, 'STUDENT50')
    expect([welcome.duration, student.duration]).toEqual(['once', 'once'])
    expect(student.valid_until).toBeNull()
    const year = new Date(welcome.created_at)
    year.setUTCFullYear(year.getUTCFullYear() + 1)
    // Inserted by one statement: valid_until is the seeding's now() + 1 year (created_at's now()).
    expect(welcome.valid_until?.getTime()).toBe(year.getTime())
  })

  it('keeps WELCOME20 ending where it ended when the seed runs again later', async ({ sql }) => {
    const before = await termsOf(sql, 'WELCOME20')
    await withRollback(sql, async (tx) => {
      // A later run: its now() is a month on, and the end must not move.
      await tx.unsafe(seed.replaceAll('now()', "(now() + interval '1 month')"))
      expect(await termsOf(tx, 'WELCOME20')).toMatchObject({
        duration: 'once',
        valid_until: before.valid_until,
      })
    })
  })

  it('defaults to once, and takes months exactly when repeating (23514)', async ({
    sql,
    coupons,
  }) => {
    const code = await coupons.create()
    expect(await termsOf(sql, code)).toMatchObject({ duration: 'once', duration_in_months: null })
    await withRollback(sql, async (tx) => {
      const error = await pgError(
        tx`update tollgate_private.coupons set duration = 'repeating' where code = ${code}`,
      )
      expect(error).toMatchObject({ code: '23514', constraint_name: 'coupons_months_when_repeating' })
    })
    await withRollback(sql, async (tx) => {
      const error = await pgError(
        tx`update tollgate_private.coupons set duration_in_months = 3 where code = ${code}`,
      )
      expect(error).toMatchObject({ code: '23514', constraint_name: 'coupons_months_when_repeating' })
    })
    await withRollback(sql, async (tx) => {
      const error = await pgError(
        tx`update tollgate_private.coupons set duration = 'weekly' where code = ${code}`,
      )
      expect(error.code).toBe('23514')
    })
  })

  it('reserves with its duration and window, for the Stripe coupon made from it', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({
      duration: 'repeating',
      durationInMonths: 3,
      validUntil: '10 days',
    })
    await withRollback(sql, async (tx) => {
      const prepared = await prepare(tx, user.id, code)
      const { valid_until } = await termsOf(tx, code)
      expect(prepared.coupon).toMatchObject({
        code,
        duration: 'repeating',
        duration_in_months: 3,
      })
      const answered = (prepared.coupon as unknown as { valid_until: string }).valid_until
      expect(Date.parse(answered)).toBe(valid_until?.getTime())
    })
  })

  it('forgets its Stripe coupon when the discount, duration or window changes, not otherwise', async ({
    sql,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 5 })
    const changes = [
      () => sql`update tollgate_private.coupons set duration = 'forever' where code = ${code}`,
      () =>
        sql`update tollgate_private.coupons set duration = 'repeating', duration_in_months = 2
          where code = ${code}`,
      () => sql`update tollgate_private.coupons set duration_in_months = 4 where code = ${code}`,
      () => sql`update tollgate_private.coupons set percent_off = 15 where code = ${code}`,
      () =>
        sql`update tollgate_private.coupons set valid_until = now() + interval '5 days'
          where code = ${code}`,
    ]
    for (const change of changes) {
      await sql`update tollgate_private.coupons set stripe_coupon_id = ${`st_${code}`} where code = ${code}`
      await change()
      expect((await termsOf(sql, code)).stripe_coupon_id).toBeNull()
    }
    await sql`update tollgate_private.coupons set stripe_coupon_id = ${`st_${code}`} where code = ${code}`
    await sql`update tollgate_private.coupons set max_uses = 50, active = true where code = ${code}`
    expect((await termsOf(sql, code)).stripe_coupon_id).toBe(`st_${code}`)
  })
})
