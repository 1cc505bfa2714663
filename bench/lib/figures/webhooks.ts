import type { Session } from '../session.ts'
import { webhookBench, type WebhookFigures } from '../webhooks.ts'

/** 5: signed Stripe events POSTed to the functions served on Node (see ../webhooks.ts). */
export const measureWebhooks = async (session: Session): Promise<WebhookFigures> => {
  const { database, context } = session
  const { warmupMs, measureMs, log } = context
  const webhooks = await webhookBench({ database, quick: context.quick, warmupMs, measureMs, log })
  session.check(
    'webhooks: every event applied once, duplicates change nothing',
    webhooks.appliedOnce,
    webhooks.detail,
  )
  return webhooks
}
