/**
 * What pg_cron and pg_net do on Supabase, for the local stack: every few seconds, maintenance (trial
 * and renewal reminders, period rolls, ended subscriptions) and the notifications worker's dispatch,
 * called through the gateway with a service-role token as the scheduler would call it.
 */
import { SignJWT } from 'jose'
import postgres from 'postgres'
import { FUNCTIONS_PATH } from './gateway.ts'

/** Options of `startWorker`. */
export type WorkerOptions = {
  databaseUrl: string
  jwtSecret: string
  /** The gateway's handler (the functions, with the stack's variables). */
  handle: (request: Request) => Promise<Response>
  /** Milliseconds between two runs (default 5,000). */
  everyMs?: number
  log: (line: string) => void
}

/** Starts the loop; the returned function stops it and waits for a run in progress. */
export const startWorker = (options: WorkerOptions): (() => Promise<void>) => {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {}, prepare: false })
  const secret = new TextEncoder().encode(options.jwtSecret)
  let running: Promise<void> | undefined
  let stopped = false

  const runOnce = async (): Promise<void> => {
    try {
      await sql`select tollgate_private.run_maintenance()`
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({ role: 'service_role', iss: 'supabase' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(secret)
      const response = await options.handle(
        new Request(`http://localhost${FUNCTIONS_PATH}/notifications/dispatch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        }),
      )
      const report = (await response.json()) as { sent?: number; failed?: number; code?: string }
      if (!response.ok) options.log(`notifications dispatch answered ${response.status} ${report.code ?? ''}`)
      else if ((report.sent ?? 0) + (report.failed ?? 0) > 0) {
        options.log(`notifications: ${report.sent ?? 0} sent, ${report.failed ?? 0} failed`)
      }
    } catch (error) {
      options.log(`worker run failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return
    running = runOnce().finally(() => {
      running = undefined
    })
  }, options.everyMs ?? 5_000)
  timer.unref()

  return async () => {
    stopped = true
    clearInterval(timer)
    await running
    await sql.end()
  }
}
