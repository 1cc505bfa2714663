/**
 * A strict reader of the TOML subset supabase/config.toml uses, for tests only (no TOML parser
 * is installed and the CLI prints no parsed config). Whether the file is valid TOML and valid
 * config is the CLI's call; this reader only pulls values out, and throws on anything outside the
 * subset (arrays of tables, inline tables, multi-line strings or arrays, dotted keys, floats,
 * dates) rather than guess.
 */

/** A value of the subset: string, integer, boolean, one-line array, or table. */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable

/** A TOML table. */
export type TomlTable = { [key: string]: TomlValue }

const BARE_KEY = /^[A-Za-z0-9_-]+/
const INTEGER = /^[+-]?(0|[1-9](_?[0-9])*)(?![0-9A-Za-z_.:-])/
const BOOLEAN = /^(true|false)(?![A-Za-z0-9_-])/

const isTable = (value: TomlValue | undefined): value is TomlTable =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// A cursor over one line; `fail` names the line so a test failure points at the file.
type Cursor = { text: string; at: number; fail: (why: string) => never }

const skipSpaces = (c: Cursor): void => {
  while (c.text[c.at] === ' ' || c.text[c.at] === '\t') c.at++
}

const ESCAPES: Record<string, string> = {
  b: '\b',
  t: '\t',
  n: '\n',
  f: '\f',
  r: '\r',
  '"': '"',
  '\\': '\\',
}

const readBasicString = (c: Cursor): string => {
  if (c.text.startsWith('"""', c.at)) c.fail('multi-line strings are not in the subset')
  c.at++
  let out = ''
  for (;;) {
    const ch = c.text[c.at]
    if (ch === undefined) c.fail('unterminated string')
    c.at++
    if (ch === '"') return out
    if (ch !== '\\') {
      out += ch
      continue
    }
    const esc = c.text[c.at]
    c.at++
    if (esc !== undefined && esc in ESCAPES) out += ESCAPES[esc]
    else if (esc === 'u' || esc === 'U') {
      const length = esc === 'u' ? 4 : 8
      const hex = c.text.slice(c.at, c.at + length)
      if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex)) c.fail('bad unicode escape')
      out += String.fromCodePoint(Number.parseInt(hex, 16))
      c.at += length
    } else c.fail(`unknown escape \\${esc ?? ''}`)
  }
}

const readLiteralString = (c: Cursor): string => {
  if (c.text.startsWith("'''", c.at)) c.fail('multi-line strings are not in the subset')
  const end = c.text.indexOf("'", c.at + 1)
  if (end === -1) c.fail('unterminated string')
  const out = c.text.slice(c.at + 1, end)
  c.at = end + 1
  return out
}

const readKey = (c: Cursor): string => {
  skipSpaces(c)
  const ch = c.text[c.at]
  if (ch === '"') return readBasicString(c)
  if (ch === "'") return readLiteralString(c)
  const bare = BARE_KEY.exec(c.text.slice(c.at))
  if (!bare) c.fail('expected a key')
  c.at += bare[0].length
  return bare[0]
}

const readValue = (c: Cursor): TomlValue => {
  skipSpaces(c)
  const rest = c.text.slice(c.at)
  const ch = rest[0]
  if (ch === '"') return readBasicString(c)
  if (ch === "'") return readLiteralString(c)
  if (ch === '[') {
    c.at++
    const items: TomlValue[] = []
    for (;;) {
      skipSpaces(c)
      if (c.text[c.at] === ']') {
        c.at++
        return items
      }
      if (c.at >= c.text.length) c.fail('arrays must close on the same line in this subset')
      items.push(readValue(c))
      skipSpaces(c)
      if (c.text[c.at] === ',') c.at++
      else if (c.text[c.at] !== ']') c.fail('expected , or ] in an array')
    }
  }
  if (ch === '{') c.fail('inline tables are not in the subset')
  const bool = BOOLEAN.exec(rest)
  if (bool) {
    c.at += bool[0].length
    return bool[0] === 'true'
  }
  const int = INTEGER.exec(rest)
  if (int) {
    c.at += int[0].length
    return Number(int[0].replaceAll('_', ''))
  }
  return c.fail('not a string, integer, boolean or one-line array')
}

// Only a comment or nothing may follow a value or a table header.
const expectLineEnd = (c: Cursor): void => {
  skipSpaces(c)
  if (c.at < c.text.length && c.text[c.at] !== '#') c.fail('unexpected text after the value')
}

/** Parses the TOML subset of supabase/config.toml; throws, naming the line, on the rest. */
export const parseTomlSubset = (text: string, source = 'config.toml'): TomlTable => {
  const root: TomlTable = {}
  let current = root
  const declared = new Set<string>()
  text.split(/\r?\n/).forEach((line, index) => {
    const c: Cursor = {
      text: line,
      at: 0,
      fail: (why) => {
        throw new Error(`${source}:${index + 1}: ${why}: ${line.trim()}`)
      },
    }
    skipSpaces(c)
    if (c.at >= line.length || line[c.at] === '#') return
    if (line[c.at] === '[') {
      if (line[c.at + 1] === '[') c.fail('arrays of tables are not in the subset')
      c.at++
      const path = [readKey(c)]
      skipSpaces(c)
      while (line[c.at] === '.') {
        c.at++
        path.push(readKey(c))
        skipSpaces(c)
      }
      if (line[c.at] !== ']') c.fail('expected ] after the table name')
      c.at++
      expectLineEnd(c)
      const name = JSON.stringify(path)
      if (declared.has(name)) c.fail('table declared twice')
      declared.add(name)
      current = root
      for (const key of path) {
        const next = current[key] ?? {}
        if (!isTable(next)) c.fail(`${key} is already a value, not a table`)
        current[key] = next
        current = next
      }
      return
    }
    const key = readKey(c)
    skipSpaces(c)
    if (line[c.at] === '.') c.fail('dotted keys are not in the subset')
    if (line[c.at] !== '=') c.fail('expected = after the key')
    c.at++
    const value = readValue(c)
    expectLineEnd(c)
    if (key in current) c.fail(`${key} is set twice`)
    current[key] = value
  })
  return root
}

/** The table at `path` (e.g. `['functions', 'billing']`); undefined when absent or not a table. */
export const tableAt = (root: TomlTable, path: string[]): TomlTable | undefined => {
  let current: TomlValue | undefined = root
  for (const key of path) {
    if (!isTable(current)) return undefined
    current = current[key]
  }
  return isTable(current) ? current : undefined
}
