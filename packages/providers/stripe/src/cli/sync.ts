/**
 * `npm run stripe:sync [-- --dry-run]`: makes the Stripe account of STRIPE_SECRET_KEY hold a
 * product and a current price for every active paid plan (recurring) and every active product
 * (one-time) of DATABASE_URL (else SUPABASE_DB_URL), and records the price ids. `--dry-run` prints the steps and changes nothing.
 */
import postgres from 'postgres'
import { describeStep, syncCatalog } from '../catalog.ts'
import { readCatalog, recordCatalogPrice } from '../catalog-db.ts'
import { createStripeClient } from '../client.ts'

const args = process.argv.slice(2)
const dryRun = args.includes('--dry-run')
const unknown = args.filter((arg) => arg !== '--dry-run')
const url = process.env.DATABASE_URL ?? process.env.SUPABASE_DB_URL
if (unknown.length > 0 || !url) {
  process.stderr.write(
    unknown.length > 0
      ? `stripe:sync: unknown argument ${unknown.join(' ')} (only --dry-run)\n`
      : 'stripe:sync needs DATABASE_URL (or SUPABASE_DB_URL) to point at the Tollgate database\n',
  )
  process.exit(2)
}

const sql = postgres(url, { max: 1, onnotice: () => {}, prepare: false })
try {
  const stripe = createStripeClient({
    STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY,
    STRIPE_API_BASE: process.env.STRIPE_API_BASE,
  })
  const steps = await syncCatalog({
    stripe,
    items: await readCatalog(sql),
    record: recordCatalogPrice(sql),
    dryRun,
  })
  const lines = steps.map(describeStep)
  process.stdout.write(
    `${dryRun ? 'stripe:sync --dry-run (nothing changed)' : 'stripe:sync'}: ` +
      `${
        steps.length === 0 ? 'the Stripe catalog matches the database' : `${steps.length} step(s)`
      }\n` +
      lines.map((line) => `  ${line}\n`).join(''),
  )
} catch (error) {
  const e = error as { message?: string; code?: string }
  process.stderr.write(
    `stripe:sync failed: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(error)}\n`,
  )
  process.exitCode = 1
} finally {
  await sql.end()
}
