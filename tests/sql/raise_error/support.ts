import type { ErrorCode } from '../../../packages/core/src/errors.ts'
import type { Queryable } from '../../helpers/db.ts'

/** The codes Tollgate's SQL raises through tollgate_private.raise_error. */
export const RAISED_CODES: readonly ErrorCode[] = [
  'INAMT',
  'BADKY',
  'NOOWN',
  'NOJWT',
  'NOADM',
  'ANONY',
  'NOUSR',
  'NOMET',
  'IDKEY',
  'GAUGE',
  'QUOTA',
  'TGCFG',
]

/** Marks the transaction as a PostgREST request, as PostgREST does before running one. */
export const asPostgrestRequest = (tx: Queryable, method = 'POST', path = '/rpc/consume_usage') =>
  tx`
    select
      pg_catalog.set_config('request.method', ${method}, true),
      pg_catalog.set_config('request.path', ${path}, true),
      pg_catalog.set_config('request.headers', '{}', true),
      pg_catalog.set_config('request.cookies', '{}', true)`

/** Calls raise_error with these arguments (null detail and hint by default). */
export const raiseError = (
  tx: Queryable,
  code: string,
  message: string,
  detail: string | null = null,
  hint: string | null = null,
) => tx`select tollgate_private.raise_error(${code}, ${message}, ${detail}, ${hint})`
