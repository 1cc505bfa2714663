import { Hono } from 'hono'
import { healthCheck } from '../../../packages/db/src/health.ts'
import { dbFor, type BillingEnv } from '../db.ts'

/** GET /: the uptime check, the health of the function's database (no token needed). */
export const health = new Hono<BillingEnv>()

health.get('/', healthCheck(dbFor))
