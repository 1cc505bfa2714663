import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ownerSql } from '../../helpers/db.ts'
import { createFakeStripe } from '../../helpers/fake-stripe.ts'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const sql = ownerSql()
afterAll(() => sql.end())

const snapshot = () =>
  sql`select (select json_agg(p order by p.id) from tollgate.plans p)::text as plans,
    (select json_agg(pp order by pp.price_id) from tollgate_private.plan_prices pp)::text as prices,
    (select json_agg(p order by p.id) from tollgate.products p)::text as products,
    (select json_agg(pp order by pp.price_id) from tollgate_private.product_prices pp)::text as product_prices`

describe('npm run stripe:sync -- --dry-run', () => {
  it('prints every change it would make and sends no POST to Stripe nor writes the database', async () => {
    const fake = await createFakeStripe()
    try {
      const before = await snapshot()
      const { stdout } = await run(
        'node',
        ['--import', 'tsx', 'packages/providers/stripe/src/cli/sync.ts', '--dry-run'],
        {
          cwd: root,
          env: {
            ...process.env,
            DATABASE_URL: inject('databaseUrl'),
            STRIPE_SECRET_KEY: 'sk_test_fake',
            STRIPE_API_BASE: fake.url,
          },
        },
      )
      expect(stdout).toContain('stripe:sync --dry-run (nothing changed): 12 step(s)')
      expect(stdout).toContain('plan pro: create product tollgate_pro')
      expect(stdout).toContain(
        'plan pro: create price on tollgate_pro with lookup key tollgate_pro',
      )
      expect(stdout).toContain('plan pro: archive price price_pro_monthly')
      expect(stdout).toContain(
        'plan enterprise: update plan row, stripe_price_id price_enterprise_monthly -> (the new price)',
      )
      expect(stdout).toContain('product api_calls_pack: create product tollgate_api_calls_pack')
      expect(stdout).toContain('product api_calls_pack: archive price price_api_calls_pack')
      expect(stdout).toContain(
        'product api_calls_pack: update product row, stripe_price_id price_api_calls_pack -> (the new price)',
      )
      expect(fake.state.requests.filter((r) => r.method === 'POST')).toEqual([])
      expect(fake.state.requests.length).toBeGreaterThan(0)
      expect(await snapshot()).toEqual(before)
    } finally {
      await fake.close()
    }
  })

  it('refuses an unknown argument with exit code 2', async () => {
    const failure = await run('node', [
      '--import',
      'tsx',
      'packages/providers/stripe/src/cli/sync.ts',
      '--force',
    ], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    )
    expect(failure?.code).toBe(2)
    expect(failure?.stderr).toContain('unknown argument --force')
  })
})
