import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'

/** The Deno binary the npm package `deno` ships. */
export const DENO = join(REPO_ROOT, 'node_modules', '.bin', 'deno')

/**
 * Environment for Deno: npm packages come from node_modules (deno.json: nodeModulesDir manual)
 * and caches stay inside the repo, so it works offline and in CI.
 */
export const denoEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  DENO_DIR: join(REPO_ROOT, 'node_modules', '.deno'),
  DENO_NO_UPDATE_CHECK: '1',
  NO_COLOR: '1',
  RUST_BACKTRACE: '0',
  ...extra,
})

/** A Deno process serving one entrypoint, and its base URL. */
export type Served = { base: string; child: ChildProcess; stop: () => Promise<void> }

/**
 * Runs `deno run <entrypoint>` (an `index.ts` that is only `Deno.serve(app.fetch)`) on a free port:
 * DENO_SERVE_ADDRESS=tcp:127.0.0.1:0, then reads "Listening on http://127.0.0.1:<port>/".
 */
export const serveWithDeno = async (
  entrypoint: string,
  env: Record<string, string> = {},
): Promise<Served> => {
  const child = spawn(DENO, ['run', '--allow-net', '--allow-env', '--allow-read', entrypoint], {
    cwd: REPO_ROOT,
    env: denoEnv({ DENO_SERVE_ADDRESS: 'tcp:127.0.0.1:0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const port = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /Listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)
      if (match?.[1]) resolve(match[1])
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`deno exited with ${code}:\n${output}`)))
    child.once('error', reject)
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
  return { base: `http://127.0.0.1:${port}`, child, stop }
}
