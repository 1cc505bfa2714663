/**
 * A fake of PostgREST (the Supabase Data API) for the request shapes @tollgate/client sends, run
 * against the real test database the way PostgREST runs a request: one transaction, the role and
 * claims of the verified bearer JWT set with `set_config(…, true)`, the query under RLS, and
 * PostgREST's response and error shapes (docs.postgrest.org `references/errors.rst`).
 *
 * Handled: `GET /rest/v1/<relation>?select=…&<col>=eq.<v>&<col>=[not.]in.(…)&order=…` with
 * one level of one-to-many embedding (`alias:relation(columns)`, `<alias>.order=…`), answered as a
 * JSON array or, for `Accept: application/vnd.pgrst.object+json`, one object;
 * `POST /rest/v1/rpc/<function>` with a JSON object of named arguments (a function returning a
 * set of rows of a table, view or type is answered as a JSON array, with `select=<columns>` and
 * `order=…` applied to its rows); and
 * `POST /rest/v1/<table>[?columns=…]` with a JSON object or array of them, inserted as PostgREST
 * does without a `Prefer` header (201, no body). Every request sets the `request.*` settings
 * PostgREST sets (method, path, headers, cookies). Anything else is answered 400 `UNSUPPORTED`
 * naming what the fake does not know, so a client that starts sending something new fails its
 * tests instead of being answered by guesswork.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose'
import postgres from 'postgres'

/** Options of `createFakePostgrest`. */
export type FakePostgrestOptions = {
  /** The database, as PostgREST's login role (`authenticator` on Supabase). */
  databaseUrl: string
  /** The HS256 secret of the project's JWTs (PGRST_JWT_SECRET). */
  jwtSecret: string
  /** Exposed schemas, the first the default (supabase/config.toml `[api] schemas`). */
  schemas?: readonly string[]
  /** The schema this fake can answer for; other exposed schemas answer UNSUPPORTED. */
  served?: string
  /** Extra schemas on every request's search_path (`[api] extra_search_path`). */
  extraSearchPath?: readonly string[]
  /** Rows a read returns at most (`[api] max_rows`). */
  maxRows?: number
}

/** One request the fake answered. */
export type FakePostgrestRequest = {
  method: string
  /** Path and query string, as sent. */
  url: string
  /** The database role the request ran as (null when it never reached the database). */
  role: string | null
  status: number
  code: string | null
}

/** The handler and what it saw; `close()` ends its pool. */
export type FakePostgrest = {
  fetch: (request: Request) => Promise<Response>
  requests: FakePostgrestRequest[]
  close: () => Promise<void>
}

/** PostgREST's error body. */
type ErrorBody = { code: string; message: string; details: string | null; hint: string | null }

/** An answer decided before or instead of the database's. */
class Answer extends Error {
  readonly status: number
  readonly body: ErrorBody
  readonly headers: Record<string, string>

  constructor(status: number, body: ErrorBody, headers: Record<string, string> = {}) {
    super(body.message)
    this.status = status
    this.body = body
    this.headers = headers
  }
}

const unsupported = (what: string): Answer =>
  new Answer(400, {
    code: 'UNSUPPORTED',
    message: `The fake PostgREST does not support ${what}`,
    details: null,
    hint: 'Teach tests/helpers/fake-postgrest.ts this request shape, as PostgREST documents it',
  })

const pgrst = (status: number, code: string, message: string, details: string | null = null) =>
  new Answer(status, { code, message, details, hint: null })

const JSON_TYPE = 'application/json; charset=utf-8'
const OBJECT_TYPE = 'application/vnd.pgrst.object+json'
const REST_PREFIX = '/rest/v1/'
const DEFAULT_SCHEMAS = ['public', 'graphql_public', 'tollgate']
const ANON_ROLE = 'anon'

/** `"name"` with embedded quotes doubled. */
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`

// PostgREST's status for a database error (src/PostgREST/Error.hs, pgErrorStatus).
const statusOfSqlState = (code: string, authed: boolean): number => {
  const exact: Record<string, number> = {
    '23503': 409,
    '23505': 409,
    '25006': 405,
    '53400': 500,
    P0001: 400,
    '42883': 404,
    '42P01': 404,
    '42P17': 500,
    '42501': authed ? 403 : 401,
  }
  if (code in exact) return exact[code] as number
  const byClass: Record<string, number> = {
    '08': 503,
    '09': 500,
    '0L': 403,
    '0P': 403,
    '25': 500,
    '28': 403,
    '2D': 500,
    '38': 500,
    '39': 500,
    '3B': 500,
    '40': 500,
    '53': 503,
    '54': 500,
    '55': 500,
    '57': 500,
    '58': 500,
    F0: 500,
    HV: 500,
    P0: 500,
    XX: 500,
  }
  const prefix = code.slice(0, 2)
  if (prefix in byClass) return byClass[prefix] as number
  if (prefix === 'PT') {
    const status = Number(code.slice(2))
    return Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500
  }
  return 400
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isOptionalText = (value: unknown): value is string | null | undefined =>
  value === undefined || value === null || typeof value === 'string'

// `RAISE SQLSTATE 'PGRST'` as PostgREST parses it (src/PostgREST/Error.hs, parseRaisePGRST):
// the message a JSON object with string `code` and `message`, optional string `details` and
// `hint`; the detail a JSON object with an integer `status` and a `headers` object of strings.
const fromRaisePgrst = (error: postgres.PostgresError): Answer => {
  const parse = (text: string | undefined): unknown => {
    try {
      return text === undefined ? undefined : JSON.parse(text)
    } catch {
      return undefined
    }
  }
  const body = parse(error.message)
  const meta = parse(error.detail)
  const valid =
    isRecord(body) &&
    typeof body.code === 'string' &&
    typeof body.message === 'string' &&
    isOptionalText(body.details) &&
    isOptionalText(body.hint) &&
    isRecord(meta) &&
    Number.isInteger(meta.status) &&
    isRecord(meta.headers) &&
    Object.values(meta.headers).every((value) => typeof value === 'string')
  if (!valid) {
    return pgrst(500, 'PGRST121', "Could not parse JSON in the 'RAISE SQLSTATE PGRST' error")
  }
  return new Answer(
    meta.status as number,
    {
      code: body.code as string,
      message: body.message as string,
      details: (body.details as string | null | undefined) ?? null,
      hint: (body.hint as string | null | undefined) ?? null,
    },
    meta.headers as Record<string, string>,
  )
}

// A database error as PostgREST answers it, `RAISE SQLSTATE 'PGRST'` with JSON message included.
const fromDatabase = (error: postgres.PostgresError, authed: boolean): Answer => {
  if (error.code === 'PGRST') return fromRaisePgrst(error)
  const status = statusOfSqlState(error.code, authed)
  return new Answer(
    status,
    {
      code: error.code,
      message: error.message,
      details: error.detail ?? null,
      hint: error.hint ?? null,
    },
    status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
  )
}

type Auth = { role: string; claims: Record<string, unknown> }

const invalidToken = (message: string): Answer =>
  new Answer(
    401,
    { code: 'PGRST301', message, details: null, hint: null },
    { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${message}"` },
  )

// PostgREST reads `Bearer <jwt>` (either case); anything else counts as no token.
const tokenOf = (request: Request): string | null => {
  const [scheme, token] = (request.headers.get('authorization') ?? '').split(' ')
  return (scheme === 'Bearer' || scheme === 'bearer') && token ? token : null
}

const authenticate = async (request: Request, secret: Uint8Array): Promise<Auth> => {
  const token = tokenOf(request)
  let claims: JWTPayload = {}
  if (token !== null) {
    try {
      // PostgREST allows 30 s of clock skew; `exp`, `nbf` and `iat` are checked when present.
      claims = (
        await jwtVerify(token, secret, {
          algorithms: ['HS256', 'HS384', 'HS512'],
          clockTolerance: 30,
        })
      ).payload
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw invalidToken('JWT expired')
      if (error instanceof errors.JWSSignatureVerificationFailed) {
        throw invalidToken('JWSError JWSInvalidSignature')
      }
      throw invalidToken(error instanceof Error ? error.message : 'JWSError')
    }
  }
  // The role claim picks the database role; without one the request is anonymous.
  const role = typeof claims.role === 'string' ? claims.role : ANON_ROLE
  return { role, claims: { ...claims, role } }
}

// Accept-Profile (reads) or Content-Profile (writes) picks the schema; none means the first.
const schemaOf = (request: Request, schemas: readonly string[], served: string): string => {
  const header = request.method === 'GET' ? 'accept-profile' : 'content-profile'
  const schema = request.headers.get(header) ?? schemas[0] ?? ''
  if (!schemas.includes(schema)) {
    throw pgrst(406, 'PGRST106', `The schema must be one of the following: ${schemas.join(', ')}`)
  }
  if (schema !== served) {
    throw unsupported(`schema ${schema} (only ${served}; did the request lose its ${header}?)`)
  }
  return schema
}

// `application/json` (or nothing) reads an array; `vnd.pgrst.object+json` exactly one object.
const singularOf = (request: Request): boolean => {
  const accept = request.headers.get('accept')
  if (accept === null || accept === '*/*' || accept === 'application/json') return false
  if (accept === OBJECT_TYPE) return true
  throw unsupported(`Accept: ${accept}`)
}

const refuseHeaders = (request: Request, names: string[]): void => {
  for (const name of names) {
    const value = request.headers.get(name)
    if (value !== null) throw unsupported(`the ${name} header (${value})`)
  }
}

// ---- select=…: columns, `*`, and `alias:relation(columns)` one level deep ----

type Column = { kind: 'star' } | { kind: 'column'; name: string }
type Embed = { kind: 'embed'; alias: string; relation: string; columns: Column[] }
type SelectItem = Column | Embed

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const splitTopLevel = (text: string): string[] => {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const char of text) {
    if (char === '(') depth += 1
    if (char === ')') depth -= 1
    if (char === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}

const parseColumn = (item: string): Column => {
  if (item === '*') return { kind: 'star' }
  if (NAME.test(item)) return { kind: 'column', name: item }
  throw unsupported(`the select item "${item}" (casts, JSON paths, aliases, aggregates)`)
}

const parseSelect = (select: string): SelectItem[] =>
  splitTopLevel(select).map((item): SelectItem => {
    const embed = /^(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$/.exec(item)
    if (!embed) return parseColumn(item)
    const [, alias, relation, inner] = embed as unknown as [
      string,
      string | undefined,
      string,
      string,
    ]
    if (inner.includes('(')) throw unsupported(`nested embedding in "${item}"`)
    return {
      kind: 'embed',
      alias: alias ?? relation,
      relation,
      columns: splitTopLevel(inner).map(parseColumn),
    }
  })

// ---- order=col.asc|desc[.nullsfirst|nullslast],… ----

const parseOrder = (order: string): string[] =>
  order.split(',').map((term) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.(asc|desc))?(?:\.(nullsfirst|nullslast))?$/.exec(
      term,
    )
    if (!match) throw unsupported(`the order term "${term}"`)
    const [, column, direction, nulls] = match as unknown as [string, string, string?, string?]
    const nullsSql =
      nulls === 'nullsfirst' ? ' nulls first' : nulls === 'nullslast' ? ' nulls last' : ''
    return `${ident(column)} ${direction ?? 'asc'}${nullsSql}`
  })

// ---- filters: eq.<value>, in.(<list>), not.in.(<list>) ----

// PostgREST's list syntax: comma-separated, double quotes around values holding , or ).
const parseList = (text: string): string[] => {
  const values: string[] = []
  let index = 0
  while (index < text.length) {
    if (text[index] === '"') {
      let value = ''
      index += 1
      while (index < text.length && text[index] !== '"') {
        if (text[index] === '\\') index += 1
        value += text[index] ?? ''
        index += 1
      }
      values.push(value)
      index += 2
    } else {
      const end = text.indexOf(',', index)
      values.push(text.slice(index, end === -1 ? text.length : end))
      index = end === -1 ? text.length : end + 1
    }
  }
  return values
}

const arrayLiteral = (values: string[]): string =>
  `{${values.map((value) => `"${value.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`

type Filter = {
  column: string
  sql: (column: string, param: string) => string
  value: string
  /** The value is an array literal of the column's type. */
  array: boolean
}

const parseFilter = (column: string, expression: string): Filter => {
  if (!NAME.test(column)) throw unsupported(`the filter key "${column}"`)
  if (expression.startsWith('eq.')) {
    return { column, sql: (c, p) => `${c} = ${p}`, value: expression.slice(3), array: false }
  }
  const list = /^(not\.)?in\.\((.*)\)$/.exec(expression)
  if (list) {
    const negated = list[1] !== undefined
    return {
      column,
      sql: (c, p) => `${negated ? 'not ' : ''}${c} = any (${p})`,
      value: arrayLiteral(parseList(list[2] ?? '')),
      array: true,
    }
  }
  throw unsupported(`the filter ${column}=${expression} (only eq, in and not.in)`)
}

// ---- the read ----

type Relationship = { childColumns: string[]; parentColumns: string[] }

type Catalog = {
  /** The relation's columns and their types; null when there is no such table or view. */
  columnsOf: (schema: string, name: string) => Promise<Map<string, string> | null>
  /** Foreign keys from `child` to `parent` (one-to-many seen from the parent). */
  foreignKeys: (schema: string, parent: string, child: string) => Promise<Relationship[]>
  functions: (schema: string, name: string) => Promise<Routine[]>
}

type Routine = {
  names: string[]
  types: string[]
  required: number
  returnsSet: boolean
  /** Returns rows of a table, view or composite type (not a scalar). */
  returnsRows: boolean
  returnsVoid: boolean
  readOnly: boolean
  plainInArgs: boolean
}

type Query = {
  text: string
  params: string[]
  readOnly: boolean
  singular: boolean
  /** An insert: answered 201 without a body, as PostgREST does without `Prefer: return=…`. */
  created?: boolean
}

// A relation PostgREST does not know answers 404 PGRST205, for reads and inserts alike.
const columnsOrNotFound = async (catalog: Catalog, schema: string, relation: string) => {
  const types = await catalog.columnsOf(schema, relation)
  if (!types) {
    throw pgrst(
      404,
      'PGRST205',
      `Could not find the table '${schema}.${relation}' in the schema cache`,
    )
  }
  return types
}

const buildRead = async (
  catalog: Catalog,
  schema: string,
  relation: string,
  url: URL,
  singular: boolean,
  maxRows: number,
): Promise<Query> => {
  const types = await columnsOrNotFound(catalog, schema, relation)
  // PostgREST sends filter values untyped, so Postgres reads them as the column's type; the
  // driver would re-serialize a typed parameter, hence text cast to that type here.
  const params: string[] = []
  const param = (value: string, type: string): string => {
    params.push(value)
    return `cast($${params.length}::text as ${type})`
  }
  const table = `${ident(schema)}.${ident(relation)}`
  const items = parseSelect(url.searchParams.get('select') ?? '*')
  const embeds = new Map(
    items.flatMap((item) => (item.kind === 'embed' ? [[item.alias, item] as const] : [])),
  )
  const embedOrders = new Map<string, string[]>()
  const filters: Filter[] = []
  let order: string[] = []
  for (const [key, value] of url.searchParams) {
    if (key === 'select') continue
    if (key === 'order') {
      order = parseOrder(value)
      continue
    }
    const dotted = /^([A-Za-z_][A-Za-z0-9_]*)\.order$/.exec(key)
    if (dotted?.[1] && embeds.has(dotted[1])) {
      embedOrders.set(dotted[1], parseOrder(value))
      continue
    }
    if (['limit', 'offset', 'columns', 'on_conflict'].includes(key) || key.includes('.')) {
      throw unsupported(`the query parameter ${key}=${value}`)
    }
    filters.push(parseFilter(key, value))
  }

  const columns: string[] = []
  for (const [index, item] of items.entries()) {
    if (item.kind === 'star') columns.push(`${table}.*`)
    else if (item.kind === 'column') columns.push(`${table}.${ident(item.name)}`)
    else {
      const keys = await catalog.foreignKeys(schema, relation, item.relation)
      if (keys.length === 0) {
        throw pgrst(
          400,
          'PGRST200',
          `Could not find a relationship between '${relation}' and '${item.relation}' in the schema cache`,
        )
      }
      const [key] = keys
      if (keys.length > 1 || !key) {
        throw unsupported(`embedding ${item.relation} through one of several foreign keys`)
      }
      const inner = ident(`${item.relation}_${index}`)
      const rows = ident(`${item.alias}_${index}`)
      const innerColumns = item.columns.map((column) =>
        column.kind === 'star' ? `${inner}.*` : `${inner}.${ident(column.name)}`,
      )
      const join = key.childColumns
        .map(
          (child, i) => `${inner}.${ident(child)} = ${table}.${ident(key.parentColumns[i] ?? '')}`,
        )
        .join(' and ')
      const innerOrder = (embedOrders.get(item.alias) ?? []).map((term) => `${inner}.${term}`)
      columns.push(
        `coalesce((select json_agg(${rows}) from (select ${innerColumns.join(', ')}
          from ${ident(schema)}.${ident(item.relation)} as ${inner} where ${join}
          ${innerOrder.length ? `order by ${innerOrder.join(', ')}` : ''}) as ${rows}), '[]')
          as ${ident(item.alias)}`,
      )
    }
  }
  for (const alias of embedOrders.keys()) {
    if (!embeds.has(alias)) throw unsupported(`ordering ${alias}, which is not embedded`)
  }
  const where = filters.map((filter) => {
    const type = types.get(filter.column)
    if (!type) {
      throw new Answer(400, {
        code: '42703',
        message: `column ${relation}.${filter.column} does not exist`,
        details: null,
        hint: null,
      })
    }
    return filter.sql(
      `${table}.${ident(filter.column)}`,
      param(filter.value, filter.array ? `${type}[]` : type),
    )
  })
  const source = `select ${columns.join(', ')} from ${table}
    ${where.length ? `where ${where.join(' and ')}` : ''}
    ${order.length ? `order by ${order.map((term) => `${table}.${term}`).join(', ')}` : ''}
    limit ${maxRows}`
  return {
    text: `select count(_pgrst_t)::int as rows,
      ${singular ? `(json_agg(_pgrst_t) -> 0)::text` : `coalesce(json_agg(_pgrst_t), '[]')::text`}
        as body
      from (${source}) as _pgrst_t`,
    params,
    readOnly: true,
    singular,
  }
}

// ---- the call ----

const buildCall = async (
  catalog: Catalog,
  schema: string,
  name: string,
  url: URL,
  args: Record<string, unknown>,
): Promise<Query> => {
  const keys = Object.keys(args)
  const matching = (await catalog.functions(schema, name)).filter(
    (routine) =>
      keys.every((key) => routine.names.includes(key)) &&
      routine.names.slice(0, routine.required).every((required) => keys.includes(required)),
  )
  const [routine] = matching
  if (!routine) {
    const signature = `${schema}.${name}(${keys.join(', ')})`
    throw new Answer(404, {
      code: 'PGRST202',
      message: `Could not find the function ${signature} in the schema cache`,
      details: `Searched for the function ${schema}.${name} with parameters ${keys.join(', ')} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
      hint: null,
    })
  }
  if (matching.length > 1) {
    throw pgrst(300, 'PGRST203', `Could not choose the best candidate function for ${name}`)
  }
  const rows = routine.returnsSet && routine.returnsRows
  if (!routine.plainInArgs || (routine.returnsSet && !rows) || routine.returnsVoid) {
    throw unsupported(`calling ${schema}.${name} (OUT/VARIADIC arguments, sets of scalars or void)`)
  }
  const given = routine.names
    .map((argument, index) => ({ argument, type: routine.types[index] ?? 'text' }))
    .filter(({ argument }) => keys.includes(argument))
  const call = `${ident(schema)}.${ident(name)}(${given
    .map(({ argument }) => `${ident(argument)} := _pgrst_args.${ident(argument)}`)
    .join(', ')})`
  const record = given.map(({ argument, type }) => `${ident(argument)} ${type}`).join(', ')
  const callArgs = given.length
    ? `json_to_record($1::text::json) as _pgrst_args(${record})`
    : `(select) as _pgrst_args`
  const params = given.length ? [JSON.stringify(args)] : []
  if (!rows) {
    if ([...url.searchParams.keys()].length > 0) {
      throw unsupported(`query parameters on a call returning one value (${url.search})`)
    }
    return {
      text: `select 1 as rows, to_json(${call})::text as body from ${callArgs}`,
      params,
      readOnly: routine.readOnly,
      singular: false,
    }
  }
  // A set of rows reads like a relation: PostgREST applies select and order to it.
  let columns = ['_pgrst_f.*']
  let order: string[] = []
  for (const [key, value] of url.searchParams) {
    if (key === 'select') {
      columns = parseSelect(value).map((item) => {
        if (item.kind === 'embed') throw unsupported(`embedding ${item.relation} in rows of a call`)
        return item.kind === 'star' ? '_pgrst_f.*' : `_pgrst_f.${ident(item.name)}`
      })
    } else if (key === 'order') order = parseOrder(value).map((term) => `_pgrst_f.${term}`)
    else throw unsupported(`the query parameter ${key}=${value} on a function call`)
  }
  return {
    text: `select count(_pgrst_t)::int as rows, coalesce(json_agg(_pgrst_t), '[]')::text as body
      from (select ${columns.join(', ')} from ${callArgs} cross join lateral ${call} as _pgrst_f
        ${order.length ? `order by ${order.join(', ')}` : ''}) as _pgrst_t`,
    params,
    readOnly: routine.readOnly,
    singular: false,
  }
}

// ---- the insert ----

const QUOTED_NAME = /^"([A-Za-z_][A-Za-z0-9_]*)"$/

const buildInsert = async (
  catalog: Catalog,
  schema: string,
  relation: string,
  url: URL,
  body: unknown,
): Promise<Query> => {
  const types = await columnsOrNotFound(catalog, schema, relation)
  const rows = Array.isArray(body) ? body : [body]
  if (!rows.every(isRecord)) {
    throw unsupported('an insert whose body is not a JSON object or an array of them')
  }
  let columns: string[]
  const listed = url.searchParams.get('columns')
  for (const key of url.searchParams.keys()) {
    if (key !== 'columns') throw unsupported(`the query parameter ${key} on an insert`)
  }
  if (listed !== null) {
    columns = listed.split(',').map((item) => {
      const name = QUOTED_NAME.exec(item)?.[1] ?? (NAME.test(item) ? item : null)
      if (name === null) throw unsupported(`the columns item "${item}"`)
      return name
    })
  } else {
    columns = Object.keys(rows[0] ?? {})
    const same = (row: Record<string, unknown>) =>
      Object.keys(row).length === columns.length && columns.every((name) => name in row)
    if (!rows.every(same)) throw pgrst(400, 'PGRST102', 'All object keys must match')
  }
  for (const name of columns) {
    if (!types.has(name)) {
      throw pgrst(
        400,
        'PGRST204',
        `Could not find the '${name}' column of '${relation}' in the schema cache`,
      )
    }
  }
  const table = `${ident(schema)}.${ident(relation)}`
  const list = columns.map(ident).join(', ')
  const record = columns.map((name) => `${ident(name)} ${types.get(name)}`).join(', ')
  // Missing keys insert null (supabase-js's default, no `Prefer: missing=default`).
  const text = columns.length
    ? `with _pgrst_source as (
        insert into ${table} (${list})
        select ${list} from json_to_recordset($1::text::json) as _pgrst_body(${record})
        returning 1)
      select count(*)::int as rows, null::text as body from _pgrst_source`
    : `with _pgrst_source as (
        insert into ${table} default values returning 1)
      select count(*)::int as rows, null::text as body from _pgrst_source`
  return {
    text,
    params: columns.length ? [JSON.stringify(rows)] : [],
    readOnly: false,
    singular: false,
    created: true,
  }
}

const createCatalog = (sql: postgres.Sql): Catalog => ({
  columnsOf: async (schema, name) => {
    const rows = await sql<{ name: string | null; type: string | null }[]>`
      select a.attname::text as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
      from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        left join pg_catalog.pg_attribute a
          on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = ${schema} and c.relname = ${name} and c.relkind in ('r', 'v', 'm', 'f', 'p')`
    if (rows.length === 0) return null
    return new Map(rows.flatMap((row) => (row.name && row.type ? [[row.name, row.type]] : [])))
  },
  foreignKeys: (schema, parent, child) =>
    sql<Relationship[]>`
      select
        array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, i)
          join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
          order by k.i) as "childColumns",
        array(select a.attname::text from unnest(con.confkey) with ordinality k(attnum, i)
          join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
          order by k.i) as "parentColumns"
      from pg_catalog.pg_constraint con
        join pg_catalog.pg_class c on c.oid = con.conrelid
        join pg_catalog.pg_class p on p.oid = con.confrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace and n.oid = p.relnamespace
      where con.contype = 'f' and n.nspname = ${schema}
        and c.relname = ${child} and p.relname = ${parent}`,
  functions: (schema, name) =>
    sql<Routine[]>`
      select
        coalesce(p.proargnames[1:p.pronargs], '{}')::text[] as names,
        array(select pg_catalog.format_type(t.oid, null) from unnest(p.proargtypes::oid[])
          with ordinality t(oid, i) order by t.i) as types,
        p.pronargs - p.pronargdefaults as required,
        p.proretset as "returnsSet",
        exists (select from pg_catalog.pg_type t where t.oid = p.prorettype and t.typrelid <> 0)
          as "returnsRows",
        p.prorettype = 'void'::regtype as "returnsVoid",
        p.provolatile in ('s', 'i') as "readOnly",
        p.proargmodes is null and p.provariadic = 0 as "plainInArgs"
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = ${schema} and p.proname = ${name} and p.prokind = 'f'`,
})

const jsonOf = async (request: Request): Promise<unknown> => {
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/json(;|$)/.test(type)) throw unsupported(`Content-Type: ${type}`)
  const text = await request.text()
  try {
    return text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    throw pgrst(400, 'PGRST102', 'Empty or invalid json')
  }
}

const bodyOf = async (request: Request): Promise<Record<string, unknown>> => {
  const value = await jsonOf(request)
  if (!isRecord(value)) {
    throw unsupported('a function call whose body is not one JSON object of named arguments')
  }
  return value
}

const respond = (status: number, body: string, headers: Record<string, string> = {}): Response =>
  new Response(body, { status, headers: { 'content-type': JSON_TYPE, ...headers } })

/** A PostgREST for `/rest/v1/*` on the database; see the module comment for what it handles. */
export const createFakePostgrest = (options: FakePostgrestOptions): FakePostgrest => {
  const sql = postgres(options.databaseUrl, {
    max: 4,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: 'fake-postgrest' },
  })
  const catalog = createCatalog(sql)
  const secret = new TextEncoder().encode(options.jwtSecret)
  const schemas = options.schemas ?? DEFAULT_SCHEMAS
  const served = options.served ?? 'tollgate'
  const extraSearchPath = options.extraSearchPath ?? ['public', 'extensions']
  const maxRows = options.maxRows ?? 1000
  const requests: FakePostgrestRequest[] = []

  const plan = async (request: Request, url: URL, schema: string): Promise<Query> => {
    const path = url.pathname.slice(REST_PREFIX.length)
    const rpc = /^rpc\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(path)
    if (request.method === 'POST' && rpc?.[1]) {
      refuseHeaders(request, ['prefer', 'range'])
      if (singularOf(request)) throw unsupported(`${OBJECT_TYPE} on a function call`)
      return buildCall(catalog, schema, rpc[1], url, await bodyOf(request))
    }
    if (request.method === 'GET' && NAME.test(path)) {
      refuseHeaders(request, ['prefer', 'range'])
      return buildRead(catalog, schema, path, url, singularOf(request), maxRows)
    }
    if (request.method === 'POST' && NAME.test(path)) {
      refuseHeaders(request, ['prefer', 'range'])
      if (singularOf(request)) throw unsupported(`${OBJECT_TYPE} on an insert`)
      return buildInsert(catalog, schema, path, url, await jsonOf(request))
    }
    throw unsupported(`${request.method} ${url.pathname}`)
  }

  const handle = async (request: Request, seen: FakePostgrestRequest): Promise<Response> => {
    const url = new URL(request.url)
    if (!url.pathname.startsWith(REST_PREFIX)) throw unsupported(`the path ${url.pathname}`)
    const auth = await authenticate(request, secret)
    const schema = schemaOf(request, schemas, served)
    const query = await plan(request, url, schema)
    const headers = Object.fromEntries(request.headers)
    const run = async (tx: postgres.TransactionSql) => {
      // What PostgREST sets before every request (src/PostgREST/Query/PreQuery.hs).
      await tx.unsafe(
        `select
          pg_catalog.set_config('search_path', $1, true),
          pg_catalog.set_config('role', $2, true),
          pg_catalog.set_config('request.jwt.claims', $3, true),
          pg_catalog.set_config('request.method', $4, true),
          pg_catalog.set_config('request.path', $5, true),
          pg_catalog.set_config('request.headers', $6, true),
          pg_catalog.set_config('request.cookies', '{}', true)`,
        [
          [schema, ...extraSearchPath].map(ident).join(', '),
          auth.role,
          JSON.stringify(auth.claims),
          request.method,
          url.pathname.slice(REST_PREFIX.length - 1),
          JSON.stringify(headers),
        ],
      )
      seen.role = auth.role
      return tx.unsafe<{ rows: number; body: string | null }[]>(query.text, query.params)
    }
    let rows: { rows: number; body: string | null }[]
    try {
      rows = await sql.begin(query.readOnly ? 'read only' : 'read write', run)
    } catch (error) {
      if (error instanceof postgres.PostgresError) {
        throw fromDatabase(error, auth.role !== ANON_ROLE)
      }
      throw error
    }
    const [result] = rows
    const count = result?.rows ?? 0
    if (query.created) {
      return new Response(null, { status: 201, headers: { 'content-range': '*/*' } })
    }
    if (query.singular && count !== 1) {
      throw pgrst(
        406,
        'PGRST116',
        'JSON object requested, multiple (or no) rows returned',
        `The result contains ${count} rows`,
      )
    }
    const range = count === 0 ? '*/*' : `0-${count - 1}/*`
    const type = query.singular ? `${OBJECT_TYPE}; charset=utf-8` : JSON_TYPE
    return respond(200, result?.body ?? 'null', { 'content-range': range, 'content-type': type })
  }

  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const seen: FakePostgrestRequest = {
      method: request.method,
      url: `${url.pathname}${url.search}`,
      role: null,
      status: 500,
      code: null,
    }
    requests.push(seen)
    try {
      const response = await handle(request, seen)
      seen.status = response.status
      return response
    } catch (error) {
      const answer =
        error instanceof Answer
          ? error
          : pgrst(500, 'PGRSTX00', error instanceof Error ? error.message : String(error))
      seen.status = answer.status
      seen.code = answer.body.code
      return respond(answer.status, JSON.stringify(answer.body), answer.headers)
    }
  }

  return { fetch, requests, close: () => sql.end() }
}
