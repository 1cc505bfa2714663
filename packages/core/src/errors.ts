/**
 * The one registry of Tollgate error codes, shared by SQL (`raise ... using errcode`) and HTTP.
 * Codes are five-character SQLSTATEs outside the standard classes, so Postgres carries them as-is.
 */
export const ErrorCodes = {
  NOJWT: { status: 401, message: 'Sign in first' },
  INAMT: { status: 400, message: 'amount must be a whole number greater than 0' },
  BADKY: { status: 400, message: 'The idempotency key must be 1 to 255 characters' },
  NOOWN: { status: 400, message: 'The row has no owner to count it against' },
  NOUSR: { status: 404, message: 'Unknown user' },
  NOMET: { status: 404, message: 'Unknown metric' },
  IDKEY: { status: 409, message: 'This idempotency key was used for a different request' },
  GAUGE: { status: 422, message: 'Only never-resetting metrics can be released' },
  QUOTA: { status: 429, message: 'Quota used up' },
  TGCFG: { status: 500, message: 'Tollgate is misconfigured' },
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
