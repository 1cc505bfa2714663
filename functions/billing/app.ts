import { Hono } from 'hono'
import {
  authOptionsOf,
  browserAccess,
  envOf,
  functionPath,
  notFound,
  onError,
  requireUser,
} from '../../packages/core/src/index.ts'
import type { BillingEnv } from './db.ts'
import { adminCancel } from './routes/admin-cancel.ts'
import { adminRefund } from './routes/admin-refund.ts'
import { checkout } from './routes/checkout.ts'
import { deleteAccountRoute } from './routes/delete-account.ts'
import { health } from './routes/health.ts'
import { portal } from './routes/portal.ts'
import { subscription } from './routes/subscription.ts'
import { verify } from './routes/verify.ts'

/** The billing edge function: checkout, verify-payment, change-plan, cancel, resume, portal, admin/refund, admin/cancel, delete-account. */
export const app = new Hono<BillingEnv>({ getPath: functionPath }).basePath('/billing')

app.onError(onError)
app.notFound(notFound)
// Before authentication: browsers' preflights carry no token; GET /billing is the uptime check.
app.use('*', browserAccess())
app.route('/', health)
app.use(
  '*',
  requireUser<BillingEnv>((c) => authOptionsOf(envOf(c.env))),
)
// Each handler: authenticate (above), validate, one provider step, one SQL call, answer.
app.route('/', checkout)
app.route('/', verify)
app.route('/', subscription)
app.route('/', portal)
app.route('/', adminRefund)
app.route('/', adminCancel)
app.route('/', deleteAccountRoute)
