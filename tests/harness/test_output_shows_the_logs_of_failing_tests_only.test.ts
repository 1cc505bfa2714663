import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

// Runs tests/fixtures/quiet-logs (one test that logs and passes, one that logs and fails) in a
// child vitest under the project's own settings, and returns everything it printed.
const runFixture = (): Promise<{ code: number | null; output: string }> => {
  // The child must not think it is a worker of this run.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'TEST'),
  )
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        'node_modules/vitest/vitest.mjs',
        '--run',
        '--config',
        'tests/fixtures/quiet-logs/vitest.config.ts',
      ],
      { cwd: root, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (error.code as number | null) : 0, output: stdout + stderr })
      },
    )
  })
}

it('prints the JSON log line of the failing test and none of the passing test', async () => {
  const { code, output } = await runFixture()
  expect(code).toBe(1)
  expect(output).toContain('tests: 1 passed, 1 failed, 0 skipped')
  const logLines = output.split('\n').filter((line) => line.startsWith('{"time"'))
  expect(logLines).toHaveLength(1)
  expect(JSON.parse(logLines[0]!)).toMatchObject({
    level: 'error',
    event: 'fixture_failing_test_logged',
  })
  expect(output).not.toContain('fixture_passing_test_logged')
})
