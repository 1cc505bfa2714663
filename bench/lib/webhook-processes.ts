import { type ChildProcess, fork } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import type { ChildAnswer, ChildMessage } from './webhook-child.ts'

const CHILD = fileURLToPath(new URL('./webhook-child.ts', import.meta.url))

/** A forked process of the benchmark, listening on `url`. */
export type Child = {
  pid: number
  url: string
  /** Where its stderr (the functions' JSON log lines) goes. */
  logFile: string
  /** On-CPU time of all its threads so far, in µs (null without /proc). */
  cpuUs: () => number | null
  /** The last lines of its log. */
  tail: (lines?: number) => string
  /** Starts V8's CPU profiler in it, or stops it and writes the profile to `file`. */
  profile: (action: 'start' | 'stop', file?: string) => Promise<void>
  stop: () => Promise<void>
}

/** On-CPU time of every thread of `pid` (main, libuv pool, V8 helpers), in µs. */
export const processCpuUs = (pid: number): number | null => {
  let tasks: string[]
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return null
  }
  let ns = 0
  for (const task of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0] ?? 0)
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1000
}

const tailOf = (file: string, lines: number): string => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n')
  } catch {
    return ''
  }
}

/**
 * Forks webhook-child.ts under tsx (`node --import tsx`) in its own process, so it does not share
 * the client's event loop, and starts `message` there; resolves once it listens.
 */
export const startChild = async (
  message: Extract<ChildMessage, { start: string }>,
  dir: string,
  execArgv: string[] = [],
): Promise<Child> => {
  const logFile = join(dir, `${message.start}.log`)
  const fd = openSync(logFile, 'w')
  let child: ChildProcess
  try {
    child = fork(CHILD, [message.start], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', fd, fd, 'ipc'],
    })
  } finally {
    closeSync(fd)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`the ${message.start} process did not start`)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`the ${message.start} process exited (${code}):\n${tailOf(logFile, 20)}`))
    child.once('exit', onExit)
    child.once('message', (answer: ChildAnswer) => {
      child.off('exit', onExit)
      if ('ready' in answer) resolve(answer.ready)
      else {
        const why = 'failed' in answer ? answer.failed : JSON.stringify(answer)
        reject(new Error(`the ${message.start} process failed: ${why}`))
      }
    })
    child.send(message)
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL')
    await exited
    throw error
  })
  return {
    pid,
    url,
    logFile,
    cpuUs: () => processCpuUs(pid),
    tail: (lines = 20) => tailOf(logFile, lines),
    profile: (action, file = '') =>
      new Promise<void>((resolve, reject) => {
        child.once('message', (answer: ChildAnswer) =>
          'profiled' in answer ? resolve() : reject(new Error(`profile ${action}: ${JSON.stringify(answer)}`)),
        )
        const message: ChildMessage =
          action === 'start' ? { profile: 'start' } : { profile: 'stop', file }
        child.send(message)
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const stop: ChildMessage = { stop: true }
      child.send(stop)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
