import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderPeer, renderTable, writePeerResults, writeResults } from './lib/report.ts'
import { runBench, runPeer } from './lib/run-bench.ts'

export { runBench, runPeer } from './lib/run-bench.ts'
export type { BenchOptions, BenchResult, PeerResult } from './lib/run-bench.ts'

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

const print = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

const USAGE = 'usage: npx tsx bench/run.ts [--quick] [--only peer]'

/**
 * `npx tsx bench/run.ts [--quick] [--only peer]`: full runs write bench/results/latest.{json,md};
 * `--only peer` runs the peer figure alone and writes bench/results/peer.{json,md} (full) instead.
 */
const main = async (): Promise<number> => {
  const args = process.argv.slice(2)
  const onlyAt = args.indexOf('--only')
  const only = onlyAt === -1 ? null : args[onlyAt + 1]
  const unknown = args.filter(
    (arg, index) =>
      arg !== '--quick' && (onlyAt === -1 || (index !== onlyAt && index !== onlyAt + 1)),
  )
  if (unknown.length > 0) {
    print(`unknown argument ${unknown.join(' ')}; ${USAGE}`)
    return 2
  }
  if (onlyAt !== -1 && only !== 'peer') {
    print(`--only takes peer, not ${only ?? 'nothing'}; ${USAGE}`)
    return 2
  }
  const quick = args.includes('--quick')
  const log = (line: string) => print(`  ${line}`)
  if (only === 'peer') {
    const peer = await runPeer({ quick, log })
    print('')
    print(renderPeer(peer))
    if (!quick) print(`\nwrote ${(await writePeerResults(peer, RESULTS_DIR)).join(', ')}`)
    const failed = peer.checks.filter((check) => !check.ok).length
    print(`bench checks: ${peer.checks.length - failed} passed, ${failed} failed`)
    return peer.ok ? 0 : 1
  }
  const result = await runBench({ quick, log })
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
