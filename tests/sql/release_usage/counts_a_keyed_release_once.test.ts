import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, pgError } from '../../helpers/db.ts'
import { serviceConsume, serviceRelease } from './support.ts'

describe('service_role_release_usage with an idempotency key', () => {
  it('gives back once and returns the first answer to the retry', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      await serviceConsume(tx, user.id, 'projects', 3)
      const first = await serviceRelease(tx, user.id, 'projects', 1, 'delete-project-1')
      expect(first).toEqual({
        allowed: true,
        metric: 'projects',
        used: 2,
        quota: 3,
        remaining: 1,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
      expect(await serviceRelease(tx, user.id, 'projects', 1, 'delete-project-1')).toEqual(first)
      // Another key counts again.
      expect(await serviceRelease(tx, user.id, 'projects', 1, 'delete-project-2')).toMatchObject({
        used: 1,
      })
    })
  })

  it('refuses the key of an earlier release for another amount (IDKEY)', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      await serviceConsume(tx, user.id, 'projects', 3)
      await serviceRelease(tx, user.id, 'projects', 1, 'delete-project-1')
      const error = await pgError(
        tx.savepoint((sp) => serviceRelease(sp, user.id, 'projects', 2, 'delete-project-1')),
      )
      expect(error.code).toBe('IDKEY')
      expect(await serviceConsume(tx, user.id, 'projects', 1)).toMatchObject({ used: 3 })
    })
  })

  it('refuses the key of an earlier consume (IDKEY)', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      await serviceConsume(tx, user.id, 'projects', 1, 'project-1')
      const error = await pgError(
        tx.savepoint((sp) => serviceRelease(sp, user.id, 'projects', 1, 'project-1')),
      )
      expect(error.code).toBe('IDKEY')
    })
  })
})
