import { existsSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// Routes stay thin: every call to Stripe or Razorpay is a step of packages/providers/*, so a
// file under functions/ never imports the stripe SDK, never calls a method of a Stripe client
// (whatever the variable is called: the type checker says what it is), never builds a Razorpay
// request itself and never reaches an API with fetch.
// The repository root, found upwards, so the file may move between test folders.
const rootFrom = (dir: string): string => {
  if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'functions'))) return dir
  if (resolve(dir, '..') === dir) throw new Error('no repository root above the test')
  return rootFrom(resolve(dir, '..'))
}
const ROOT = rootFrom(import.meta.dirname)
const FUNCTIONS = join(ROOT, 'functions')

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourcesUnder(path)
    return /\.(ts|tsx|js|mjs)$/.test(entry.name) ? [path] : []
  })

// The provider SDKs as bare, npm: or versioned specifiers ('stripe', 'npm:stripe@23', 'razorpay/x').
const PROVIDER_MODULE = /^(npm:)?(stripe|razorpay)(@[^/]*)?(\/.*)?$/
// The provider packages' raw API calls: a route calls the step that wraps them instead.
const RAW_PROVIDER_CALLS = new Set(['createRazorpayOrder', 'createStripeClient'])
const PROVIDER_URL = /api\.stripe\.com|api\.razorpay\.com|\/v1\/(orders|payments|checkout|subscriptions)/

/** A place where a file under functions/ reaches a provider itself. */
type Violation = { file: string; line: number; what: string }

const compilerOptions = (): ts.CompilerOptions => {
  const configPath = join(ROOT, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  return ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options
}

// True when `type` is (or includes) an instance of the Stripe class of the stripe package.
const isStripeClient = (type: ts.Type): boolean => {
  if (type.isUnion()) return type.types.some(isStripeClient)
  const symbol = type.getSymbol() ?? type.aliasSymbol
  if (!symbol || symbol.getName() !== 'Stripe') return false
  return (symbol.getDeclarations() ?? []).some((declaration) =>
    /[\\/]node_modules[\\/]stripe[\\/]/.test(declaration.getSourceFile().fileName),
  )
}

/** Scans `files` (with `overrides`: path → text used instead of the file on disk). */
const violationsIn = (files: string[], overrides: Record<string, string> = {}): Violation[] => {
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile.bind(host)
  host.readFile = (path) => overrides[resolve(path)] ?? readFile(path)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (path) => resolve(path) in overrides || fileExists(path)
  const program = ts.createProgram(files, options, host)
  const checker = program.getTypeChecker()
  const found: Violation[] = []

  for (const file of files) {
    const source = program.getSourceFile(file)
    if (!source) throw new Error(`not read: ${file}`)
    const report = (node: ts.Node, what: string) =>
      found.push({
        file: relative(ROOT, file),
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
        what,
      })
    const visit = (node: ts.Node): void => {
      // import … from 'stripe', export … from 'stripe', import('stripe'), require('stripe').
      const specifier =
        ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
          ? node.moduleSpecifier
          : ts.isCallExpression(node) &&
              (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
                (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
            ? node.arguments[0]
            : undefined
      if (specifier && ts.isStringLiteralLike(specifier) && PROVIDER_MODULE.test(specifier.text)) {
        report(node, `imports ${specifier.text}`)
      }
      if (ts.isImportSpecifier(node) && RAW_PROVIDER_CALLS.has((node.propertyName ?? node.name).text)) {
        report(node, `imports ${(node.propertyName ?? node.name).text}`)
      }
      // stripe.checkout…, stripeFor(env).subscriptions…, client.coupons…: any member of a client.
      if (
        (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) &&
        isStripeClient(checker.getTypeAtLocation(node.expression))
      ) {
        report(node, `calls the Stripe SDK: ${node.getText(source)}`)
      }
      if (ts.isNewExpression(node) && /^(Stripe|Razorpay)$/.test(node.expression.getText(source))) {
        report(node, `constructs ${node.expression.getText(source)}`)
      }
      if (ts.isCallExpression(node) && /^(globalThis\.)?fetch$/.test(node.expression.getText(source))) {
        report(node, 'reaches an API with fetch')
      }
      if (ts.isStringLiteralLike(node) && PROVIDER_URL.test(node.text)) {
        report(node, `names a provider API: ${node.text}`)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}

// The scan itself: each way of reaching a provider is found in a file placed under functions/.
const header = `import { stripeClientFor } from '../../../packages/providers/stripe/src/index.ts'\n`
const BAD: [string, string][] = [
  ['an import of the SDK', `import Stripe from 'stripe'\nexport const x = Stripe\n`],
  ['a type-only import of the SDK', `import type Stripe from 'stripe'\nexport type X = Stripe\n`],
  ['an npm: specifier', `export * from 'npm:stripe@23.1.0'\n`],
  [
    'a call on a client named stripe',
    `${header}const stripe = stripeClientFor({})\nexport const s = () => stripe.checkout.sessions.retrieve('cs_1')\n`,
  ],
  [
    "a call on a factory's answer",
    `${header}export const s = () => stripeClientFor({}).subscriptions.retrieve('sub_1')\n`,
  ],
  [
    'a call on a client under another name',
    `${header}const api = stripeClientFor({})\nexport const s = () => api['coupons'].retrieve('x')\n`,
  ],
  [
    'the Razorpay Orders API call of the package',
    `import { createRazorpayOrder } from '../../../packages/providers/razorpay/src/index.ts'\nexport const o = createRazorpayOrder\n`,
  ],
  ['a fetch of a provider', `export const f = () => fetch('https://api.razorpay.com/v1/orders')\n`],
]
const GOOD = `${header}import { retrieveStripeCheckout } from '../../../packages/providers/stripe/src/index.ts'
export const s = () => retrieveStripeCheckout(stripeClientFor({}), 'cs_1')\n`

const probeAt = (index: number | 'good') => join(FUNCTIONS, 'billing', 'routes', `__probe_${index}__.ts`)
const probes: Record<string, string> = Object.fromEntries([
  ...BAD.map(([, text], index) => [probeAt(index), text]),
  [probeAt('good'), GOOD],
])
const sources = sourcesUnder(FUNCTIONS)
// One program for the sources and every probe: the stripe SDK's types are read once.
const found = violationsIn([...sources, ...Object.keys(probes)], probes)
const foundIn = (path: string) => found.filter((violation) => violation.file === relative(ROOT, path))

describe('functions reach Stripe and Razorpay only through packages/providers', () => {
  it('no file under functions/ imports a provider SDK, calls a Stripe client or a provider API', () => {
    expect(sources.length).toBeGreaterThan(3)
    expect(sources.flatMap(foundIn)).toEqual([])
  })

  it.each(BAD.map(([name], index) => [name, index] as const))('finds %s', (_name, index) => {
    expect(foundIn(probeAt(index)).length).toBeGreaterThan(0)
  })

  it('lets a route hand a client to a provider step', () => {
    expect(foundIn(probeAt('good'))).toEqual([])
  })
})
