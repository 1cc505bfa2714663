/**
 * The one registry of Tollgate error codes, shared by SQL (`raise ... using errcode`) and HTTP.
 * Codes are five-character SQLSTATEs outside the standard classes, so Postgres carries them as-is.
 */
export const ErrorCodes = {
  BADRQ: { status: 400, message: 'Invalid request' },
  NOJWT: { status: 401, message: 'Sign in first' },
  BDJWT: { status: 401, message: 'The access token is invalid or expired' },
  BDKEY: { status: 401, message: 'The API key is invalid, revoked or expired' },
  INAMT: { status: 400, message: 'amount must be a whole number greater than 0' },
  BADKY: { status: 400, message: 'The idempotency key must be 1 to 255 characters' },
  NOOWN: { status: 400, message: 'The row has no owner to count it against' },
  NOUSR: { status: 404, message: 'Unknown user' },
  NOMET: { status: 404, message: 'Unknown metric' },
  NOTFD: { status: 404, message: 'Not found' },
  IDKEY: { status: 409, message: 'This idempotency key was used for a different request' },
  TOOBG: { status: 413, message: 'The request body is too large' },
  GAUGE: { status: 422, message: 'Only never-resetting metrics can be released' },
  BADEV: { status: 400, message: 'The provider event is malformed' },
  BADSG: { status: 400, message: 'The webhook signature is missing, invalid or stale' },
  NOTYR: { status: 403, message: 'This belongs to someone else' },
  ANONY: { status: 403, message: 'Anonymous users cannot do this: sign in with an account' },
  NOADM: { status: 403, message: 'Admins only' },
  KSCOP: { status: 403, message: 'This API key does not allow this request' },
  NOPLN: { status: 404, message: 'Unknown plan' },
  NOORD: { status: 404, message: 'Unknown order' },
  NOPRD: { status: 404, message: 'Unknown product' },
  NOKEY: { status: 404, message: 'Unknown API key' },
  NOSUB: { status: 404, message: 'You have no live subscription' },
  SAMEP: { status: 409, message: 'You are already on this plan' },
  HASUB: { status: 409, message: 'You already have a subscription' },
  CUSTM: { status: 409, message: 'This provider customer belongs to another user' },
  NOCHG: { status: 409, message: 'This subscription cannot change plan in place' },
  NOTPD: { status: 409, message: 'The payment is not complete' },
  PLINA: { status: 422, message: 'This plan cannot be bought' },
  PRINA: { status: 422, message: 'This product cannot be bought' },
  CPINV: { status: 422, message: 'Unknown coupon' },
  CPEXP: { status: 422, message: 'The coupon is not valid now' },
  CPPLN: { status: 422, message: 'The coupon does not apply to this plan' },
  CPMAX: { status: 422, message: 'The coupon has been used up' },
  CPUSD: { status: 422, message: 'You have already used this coupon' },
  CPCUR: { status: 422, message: 'The coupon is in another currency' },
  PAYMM: { status: 422, message: 'The payment does not match the order' },
  OVRFD: { status: 422, message: 'The refund is more than what is left to refund' },
  PROVR: { status: 502, message: 'The payment provider failed' },
  QUOTA: { status: 429, message: 'Quota used up' },
  RATEL: { status: 429, message: 'Too many requests: the hourly request limit is used up' },
  TGCFG: { status: 500, message: 'Tollgate is misconfigured' },
  INTRN: { status: 500, message: 'Internal error' },
  NOCFG: { status: 503, message: 'This service is not configured' },
} as const satisfies Record<string, { status: number; message: string }>

/** A code from the registry. */
export type ErrorCode = keyof typeof ErrorCodes

/** Postgres SQLSTATEs Tollgate maps to HTTP statuses besides its own codes. */
export const SqlStateStatus: Record<string, number> = {
  '23505': 409,
  '23503': 409,
  '23514': 400,
  '22P02': 400,
  '22023': 400,
  '42501': 403,
  '40001': 503,
  '40P01': 503,
  '57014': 503,
}

/** The HTTP status for a Tollgate code or Postgres SQLSTATE (500 when unknown). */
export const statusForCode = (code: string): number =>
  code in ErrorCodes ? ErrorCodes[code as ErrorCode].status : (SqlStateStatus[code] ?? 500)
