import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderTable, writeResults } from './lib/report.ts'
import { runBench } from './lib/run-bench.ts'

export { runBench } from './lib/run-bench.ts'
export type { BenchOptions, BenchResult } from './lib/run-bench.ts'

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

const print = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

/** `npx tsx bench/run.ts [--quick]`: full runs write bench/results/latest.{json,md}. */
const main = async (): Promise<number> => {
  const args = process.argv.slice(2)
  const unknown = args.filter((arg) => arg !== '--quick')
  if (unknown.length > 0) {
    print(`unknown argument ${unknown.join(' ')}; usage: npx tsx bench/run.ts [--quick]`)
    return 2
  }
  const quick = args.includes('--quick')
  const result = await runBench({ quick, log: (line) => print(`  ${line}`) })
  print('')
  print(renderTable(result))
  if (!quick) {
    const files = await writeResults(result, RESULTS_DIR)
    print(`\nwrote ${files.join(', ')}`)
  }
  const failed = result.checks.filter((check) => !check.ok).length
  print(`bench checks: ${result.checks.length - failed} passed, ${failed} failed`)
  return result.ok ? 0 : 1
}

const invokedDirectly = (): boolean => {
  const script = process.argv[1]
  if (!script) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (invokedDirectly()) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      )
      process.exitCode = 1
    },
  )
}
