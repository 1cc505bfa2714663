import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { DENO, denoEnv } from '../helpers/deno.ts'
import { createFakeResend, type FakeResend } from '../helpers/fake-resend.ts'

// The notifications function will run on Supabase's Edge Runtime (Deno): the templates and the
// sender must type-check and load there (bare `resend` and `zod` resolve from node_modules, pinned
// in deno.json; tests/functions/deno_smoke.test.ts checks those pins against package.json).
const run = promisify(execFile)

let fake: FakeResend
beforeAll(async () => {
  fake = await createFakeResend()
})
afterAll(() => fake.close())

const script = `
import { renderEmail } from './packages/notifications/src/index.ts'
import { sendEmail } from './packages/providers/resend/src/index.ts'
const email = renderEmail('payment_failed', { plan_name: 'Pro', amount: 2900, currency: 'usd' }, {
  appUrl: 'https://app.example.test',
})
const result = await sendEmail({
  apiKey: Deno.env.get('RESEND_API_KEY') ?? '',
  apiBase: Deno.env.get('RESEND_API_BASE'),
  idempotencyKey: 'deno/1',
  from: 'Tollgate <billing@tollgate.test>',
  to: 'someone@example.test',
  ...email,
})
console.log(JSON.stringify(result))
`

describe('under Deno', () => {
  it('type-checks both packages with deno check', async () => {
    const files = ['packages/notifications/src/index.ts', 'packages/providers/resend/src/index.ts']
    const { stderr } = await run(DENO, ['check', ...files], {
      cwd: REPO_ROOT,
      env: denoEnv(),
      timeout: 90_000,
    })
    for (const file of files) expect(stderr).toContain(`Check ${file}`)
  }, 120_000)

  it('renders an email and sends it through the fake Resend with its Idempotency-Key', async () => {
    const { stdout } = await run(DENO, ['eval', '--ext=ts', script], {
      cwd: REPO_ROOT,
      env: denoEnv({ RESEND_API_KEY: fake.apiKey, RESEND_API_BASE: fake.url }),
      timeout: 90_000,
    })
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as unknown
    expect(result).toEqual({ ok: true, messageId: fake.sent[0]?.id })
    expect(fake.sent).toHaveLength(1)
    expect(fake.sent[0]).toMatchObject({
      subject: 'Your payment of $29.00 for Pro failed',
      idempotencyKey: 'deno/1',
      to: ['someone@example.test'],
    })
    expect(fake.sent[0]?.html).toContain('<!doctype html>')
  }, 120_000)
})
