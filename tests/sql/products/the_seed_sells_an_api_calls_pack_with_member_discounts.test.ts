import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'

describe('seeded products (CONTRACT "One-time purchases, credits, refunds")', () => {
  it('sells api_calls_pack: 1000 usd for 50,000 api_calls credits valid 365 days', async ({ sql }) => {
    const rows = await sql`
      select id, amount, currency, metric, credits, credits_valid_days, stripe_price_id, active
      from tollgate.products order by id`
    expect(rows).toEqual([
      {
        id: 'api_calls_pack',
        amount: '1000',
        currency: 'usd',
        metric: 'api_calls',
        credits: '50000',
        credits_valid_days: 365,
        stripe_price_id: 'price_api_calls_pack',
        active: true,
      },
    ])
  })

  it('gives pro subscribers 10 % and enterprise subscribers 20 % off it', async ({ sql }) => {
    const rows = await sql`
      select plan_id, product_id, percent_off from tollgate.member_discounts order by plan_id`
    expect(rows).toEqual([
      { plan_id: 'enterprise', product_id: 'api_calls_pack', percent_off: 20 },
      { plan_id: 'pro', product_id: 'api_calls_pack', percent_off: 10 },
    ])
  })
})
