/** A value of a form body in Stripe's bracket notation: text, or nested lists and maps of it. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue }

/** A parsed form body. */
export type FormData = { [key: string]: FormValue }

// Keys that would reach Object.prototype if used as plain object keys.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

const decode = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '))

/** `a[b][0][c]` → ['a', 'b', '0', 'c']; `expand[]` → ['expand', ''] (append). */
export const keyPath = (key: string): string[] => {
  const open = key.indexOf('[')
  if (open <= 0) return [key]
  const path = [key.slice(0, open)]
  const rest = key.slice(open)
  const segment = /\[([^\]]*)\]/g
  let consumed = 0
  for (const match of rest.matchAll(segment)) {
    if (match.index !== consumed) throw new Error(`malformed form key ${key}`)
    path.push(match[1] ?? '')
    consumed = match.index + match[0].length
  }
  if (consumed !== rest.length) throw new Error(`malformed form key ${key}`)
  return path
}

const isIndex = (segment: string): boolean =>
  segment === '' || /^(0|[1-9][0-9]{0,3})$/.test(segment)

type Container = FormValue[] | { [key: string]: FormValue }

const childOf = (container: Container, segment: string): FormValue | undefined =>
  Array.isArray(container) ? container[Number(segment)] : container[segment]

const setChild = (container: Container, segment: string, value: FormValue): void => {
  if (Array.isArray(container)) {
    if (segment === '') container.push(value)
    else container[Number(segment)] = value
  } else {
    container[segment] = value
  }
}

/**
 * Parses an application/x-www-form-urlencoded body (or query string) in Stripe's bracket
 * notation, as the Stripe SDKs send it: `metadata[user_id]=u&items[0][price]=p&expand[]=x`.
 * Values stay text (Stripe's API reads `''` as "unset"); numeric segments build lists.
 */
export const parseStripeForm = (text: string): FormData => {
  const root: FormData = {}
  const body = text.startsWith('?') ? text.slice(1) : text
  for (const pair of body.split('&')) {
    if (pair === '') continue
    const at = pair.indexOf('=')
    const key = decode(at < 0 ? pair : pair.slice(0, at))
    const value = at < 0 ? '' : decode(pair.slice(at + 1))
    const path = keyPath(key)
    if (path.some((segment) => FORBIDDEN.has(segment))) throw new Error(`forbidden form key ${key}`)
    let container: Container = root
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        setChild(container, segment, value)
        return
      }
      const next = path[i + 1] ?? ''
      let child = segment === '' && Array.isArray(container)
        ? undefined
        : childOf(container, segment)
      if (child === undefined || typeof child === 'string') {
        child = isIndex(next) ? [] : {}
        setChild(container, segment, child)
        // `a[][b]=…` appends a new element, which the rest of the path then fills.
        if (segment === '' && Array.isArray(container)) child = container[container.length - 1]
      }
      container = child as Container
    })
  }
  return root
}

/** Stripe's form encoding of `data` (the inverse of `parseStripeForm`, as the SDKs send it). */
export const encodeStripeForm = (data: Record<string, unknown>): string => {
  const pairs: string[] = []
  const encode = (key: string, value: unknown): void => {
    if (value === undefined) return
    if (value === null || typeof value !== 'object') {
      pairs.push(
        `${encodeURIComponent(key)}=${encodeURIComponent(value === null ? '' : String(value))}`,
      )
      return
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => encode(`${key}[${i}]`, item))
      return
    }
    for (const [k, v] of Object.entries(value)) encode(`${key}[${k}]`, v)
  }
  for (const [key, value] of Object.entries(data)) encode(key, value)
  return pairs.join('&')
}
