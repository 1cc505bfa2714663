// The one list of notification kinds: the SQL check constraint, the templates and the preferences
// (payment kinds are always emailed) are checked against it.

/** Every kind of notification, as CONTRACT.md "Notifications and email" names them. */
export const NOTIFICATION_KINDS = [
  'payment_succeeded',
  'payment_failed',
  'trial_ending',
  'cancel_scheduled',
  'subscription_ended',
  'plan_changed',
  'renewal_upcoming',
  'quota_warning',
  'quota_exhausted',
  'purchase_succeeded',
  'payment_refunded',
  'dispute_opened',
] as const

/** A notification kind. */
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

/** Kinds about money that moved: always emailed, whatever the user's preferences. */
export const PAYMENT_KINDS = [
  'payment_succeeded',
  'payment_failed',
  'purchase_succeeded',
  'payment_refunded',
  'dispute_opened',
] as const satisfies readonly NotificationKind[]

/** A kind that is always emailed. */
export type PaymentKind = (typeof PAYMENT_KINDS)[number]

/** True for a known notification kind. */
export const isNotificationKind = (kind: unknown): kind is NotificationKind =>
  (NOTIFICATION_KINDS as readonly unknown[]).includes(kind)

/** True for a kind that is always emailed (a user cannot opt out of it). */
export const isPaymentKind = (kind: unknown): kind is PaymentKind =>
  (PAYMENT_KINDS as readonly unknown[]).includes(kind)
