import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app as billing } from '../../functions/billing/app.ts'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { FUNCTIONS_PATH, gateway } from '../../packages/local/src/gateway.ts'
import { type HttpServer, serveHttp } from '../../packages/local/src/http.ts'
import {
  billingHarness,
  footprintOf,
  type BillingHarness,
  type Caller,
} from '../helpers/billing.ts'

// Debian's chromium (.ci/run installs it); a test tool must not download a browser of its own.
const CHROMIUM = '/usr/bin/chromium'
const SUPABASE_JS = join(REPO_ROOT, 'node_modules/@supabase/supabase-js/dist/umd/supabase.js')

/** What the page writes into #outcome once functions.invoke settled. */
type Outcome = {
  data: unknown
  error: { name: string; message: string; status: number | null } | null
}

type Page = { origin: string; close: () => Promise<void> }

// The page a browser app would be: supabase-js from its own origin, calling billing/checkout.
const pageHtml = (projectUrl: string, token: string, body: unknown): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>checkout</title></head><body>
<pre id="outcome">pending</pre>
<script src="/supabase.js"></script>
<script>
(async () => {
  const out = document.getElementById('outcome')
  try {
    const client = supabase.createClient(${JSON.stringify(projectUrl)}, 'anon-key-of-the-page', {
      accessToken: async () => ${JSON.stringify(token)},
    })
    const { data, error } = await client.functions.invoke('billing/checkout', {
      body: ${JSON.stringify(body)},
    })
    out.textContent = JSON.stringify({
      data,
      error: error
        ? { name: error.name, message: error.message, status: error.context?.status ?? null }
        : null,
    })
  } catch (thrown) {
    out.textContent = JSON.stringify({ data: null, error: { name: 'thrown', message: String(thrown), status: null } })
  }
})()
</script>
</body></html>`

// One origin serving one page and the supabase-js bundle from node_modules.
const servePage = async (html: () => string): Promise<Page> => {
  const bundle = await readFile(SUPABASE_JS)
  const server: Server = createServer((req, res) => {
    if (req.url === '/supabase.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html())
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

const run = promisify(execFile)

const unescapeHtml = (text: string): string =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&')

// Headless Chromium loads the page, lets its scripts and fetches run, and prints the DOM.
const outcomeOf = async (url: string): Promise<Outcome> => {
  const profile = await mkdtemp(join(tmpdir(), 'tollgate-chromium-'))
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=15000',
        '--dump-dom',
        url,
      ],
      { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
    )
    const text = /<pre id="outcome">([\s\S]*?)<\/pre>/.exec(stdout)?.[1]
    if (text === undefined) throw new Error(`no #outcome in the page Chromium printed:\n${stdout}`)
    const unescaped = unescapeHtml(text)
    if (unescaped === 'pending') throw new Error('the page had no answer before Chromium stopped')
    return JSON.parse(unescaped) as Outcome
  } finally {
    await rm(profile, { recursive: true, force: true })
  }
}

let h: BillingHarness
let functions: HttpServer
let allowed: Page
let foreign: Page
let payer: Caller
let stranger: Caller
const requests: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium ` +
        '(DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; .ci/run does it)',
    )
  }
  h = await billingHarness()
  ;[payer, stranger] = [await h.signIn(), await h.signIn()]
  let projectUrl = ''
  allowed = await servePage(() => pageHtml(projectUrl, payer.token, { plan_id: 'free' }))
  // The stranger's page asks for a paid plan: through, it would write a checkout and call Stripe.
  foreign = await servePage(() => pageHtml(projectUrl, stranger.token, { plan_id: 'pro' }))
  const bindings = { ...h.env, TOLLGATE_ALLOWED_ORIGINS: allowed.origin }
  functions = await serveHttp(gateway({ billing }, bindings), {
    port: 0,
    log: (line) => requests.push(line.replace(/ \d+ms$/, '')),
  })
  projectUrl = functions.url
}, 120_000)

afterAll(async () => {
  await Promise.all([functions?.stop(), allowed?.close(), foreign?.close()])
  await h?.close()
})

const CHECKOUT = `${FUNCTIONS_PATH}/billing/checkout`

describe('a page in headless Chromium calling billing through supabase-js functions.invoke', () => {
  it('gets the answer on an allowed origin, after a preflight answered without a token', async () => {
    requests.length = 0
    const outcome = await outcomeOf(`${allowed.origin}/`)
    expect(outcome).toEqual({ data: { subscription: null }, error: null })
    expect(requests).toEqual([`OPTIONS ${CHECKOUT} 204`, `POST ${CHECKOUT} 200`])
  })

  it('is refused by the browser on a foreign origin, and the server changes nothing', async () => {
    requests.length = 0
    const stripeCalls = h.stripe.state.requests.length
    const outcome = await outcomeOf(`${foreign.origin}/`)
    // The fetch rejected (a CORS error): supabase-js's FunctionsFetchError, no status.
    expect(outcome).toMatchObject({
      data: null,
      error: { name: 'FunctionsFetchError', status: null },
    })
    // Only the preflight reached the server, and it met the authentication.
    expect(requests).toEqual([`OPTIONS ${CHECKOUT} 401`])
    expect(h.stripe.state.requests.length).toBe(stripeCalls)
    expect(await footprintOf(h.sql, stranger.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })
})
