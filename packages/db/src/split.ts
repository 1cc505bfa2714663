// Statement splitting as the Supabase CLI does it (pkg/parser): `;` ends a statement unless it is
// inside a string, quoted identifier, dollar quote, comment, parentheses or a BEGIN ATOMIC body.
// Comments stay in the statement they precede; each statement is trimmed; empty ones are dropped.

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/y
const WORD = /[A-Za-z_][\w$]*/y

const skipQuoted = (text: string, from: number, quote: string, backslashes: boolean): number => {
  let i = from + 1
  while (i < text.length) {
    const c = text[i]
    if (backslashes && c === '\\') i += 2
    else if (c === quote && text[i + 1] === quote) i += 2
    else if (c === quote) return i + 1
    else i++
  }
  return text.length
}

const skipBlockComment = (text: string, from: number): number => {
  let depth = 0
  let i = from
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth++
      i += 2
    } else if (text.startsWith('*/', i)) {
      depth--
      i += 2
      if (depth === 0) return i
    } else i++
  }
  return text.length
}

/** Splits a SQL script into trimmed statements the way the Supabase CLI records them. */
export const splitStatements = (text: string): string[] => {
  const statements: string[] = []
  const push = (end: number): void => {
    const statement = text.slice(start, end).trim()
    if (statement) statements.push(statement)
  }
  let start = 0
  let parens = 0
  // Depth of BEGIN ATOMIC … END (CASE … END nests inside it); 0 outside such a body.
  let atomic = 0
  let previousWord = ''
  let i = 0
  while (i < text.length) {
    const c = text[i] ?? ''
    const next = text[i + 1]
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end + 1
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(text, i)
    } else if (c === "'") {
      // E'…' strings take backslash escapes.
      const prefix = text[i - 1] ?? ''
      const escaped = /[eE]/.test(prefix) && !/[\w$]/.test(text[i - 2] ?? '')
      i = skipQuoted(text, i, "'", escaped)
    } else if (c === '"') {
      i = skipQuoted(text, i, '"', false)
    } else if (c === '$' && !/[\w$]/.test(text[i - 1] ?? '')) {
      DOLLAR_TAG.lastIndex = i
      const tag = DOLLAR_TAG.exec(text)?.[0]
      if (tag) {
        const end = text.indexOf(tag, i + tag.length)
        i = end < 0 ? text.length : end + tag.length
      } else i++
    } else if (/[A-Za-z_]/.test(c)) {
      WORD.lastIndex = i
      const word = (WORD.exec(text)?.[0] ?? c).toLowerCase()
      if (word === 'atomic' && previousWord === 'begin' && atomic === 0) atomic = 1
      else if (atomic > 0 && word === 'case') atomic++
      else if (atomic > 0 && word === 'end') atomic--
      previousWord = word
      i += word.length
    } else {
      if (c === '(') parens++
      else if (c === ')') parens = Math.max(0, parens - 1)
      else if (c === ';' && parens === 0 && atomic === 0) {
        push(i)
        start = i + 1
      }
      i++
    }
  }
  push(text.length)
  return statements
}
