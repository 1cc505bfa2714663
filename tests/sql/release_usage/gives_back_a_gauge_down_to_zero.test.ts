import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, withRollback } from '../../helpers/db.ts'
import { countersOf, insertSubscription } from '../subscriptions/support.ts'
import { serviceConsume, serviceRelease } from './support.ts'

describe('service_role_release_usage on a gauge', () => {
  it('gives storage_gb back, so it can be consumed again', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      expect(await serviceConsume(tx, user.id, 'storage_gb', 1)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 1,
        remaining: 0,
      })
      expect(await serviceConsume(tx, user.id, 'storage_gb', 1)).toMatchObject({
        allowed: false,
        used: 1,
      })
      expect(await serviceRelease(tx, user.id, 'storage_gb', 1)).toEqual({
        allowed: true,
        metric: 'storage_gb',
        used: 0,
        quota: 1,
        remaining: 1,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
      expect(await serviceConsume(tx, user.id, 'storage_gb', 1)).toMatchObject({
        allowed: true,
        used: 1,
      })
    })
  })

  it('never goes below zero when more is released than was used', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'pro' })
      await tx`select pg_catalog.set_config('role', 'service_role', true)`
      expect(await serviceConsume(tx, user.id, 'storage_gb', 20)).toMatchObject({ used: 20 })
      expect(await serviceRelease(tx, user.id, 'storage_gb', 25)).toEqual({
        allowed: true,
        metric: 'storage_gb',
        used: 0,
        quota: 50,
        remaining: 50,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
      await tx`select pg_catalog.set_config('role', 'none', true)`
      expect(await countersOf(tx, user.id)).toMatchObject({
        storage_gb: { plan_id: 'pro', used: '0', quota: '50' },
      })
    })
  })

  it('answers used 0 for a user who never consumed the metric', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      expect(await serviceRelease(tx, user.id, 'projects', 2)).toEqual({
        allowed: true,
        metric: 'projects',
        used: 0,
        quota: 3,
        remaining: 3,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
    })
  })
})
