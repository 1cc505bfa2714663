/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** Extra fields of a log line; an `error` field is reduced to name, message, code and stack. */
export type LogFields = Record<string, unknown>

const serializeError = (error: unknown): unknown => {
  if (!(error instanceof Error)) return error
  const { code } = error as { code?: unknown }
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    stack: error.stack,
  }
}

// JSON.stringify throws on bigint and cycles; a log line must never be the thing that fails.
// Without a replacer first: a replacer function makes every line several times slower to write,
// and only a line with a bigint (or a cycle) needs one.
const stringify = (line: Record<string, unknown>): string => {
  try {
    return JSON.stringify(line)
  } catch {
    // A bigint or a cycle: written again below.
  }
  try {
    return JSON.stringify(line, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    )
  } catch {
    return JSON.stringify({ time: line.time, level: line.level, event: line.event })
  }
}

const write = (level: LogLevel, event: string, fields: LogFields = {}): void => {
  const { error, ...rest } = fields
  const line = {
    time: new Date().toISOString(),
    level,
    event,
    ...rest,
    ...(error === undefined ? {} : { error: serializeError(error) }),
  }
  // The one place Tollgate writes to the console: JSON lines on stderr (Supabase collects them).
  console.error(stringify(line))
}

/** The one logger: writes one JSON line per call to stderr. */
export const log = {
  debug: (event: string, fields?: LogFields): void => write('debug', event, fields),
  info: (event: string, fields?: LogFields): void => write('info', event, fields),
  warn: (event: string, fields?: LogFields): void => write('warn', event, fields),
  error: (event: string, fields?: LogFields): void => write('error', event, fields),
}
