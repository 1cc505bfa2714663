import fc from 'fast-check'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { stepArbitrary } from './actions.ts'
import { modelConfig } from './config.ts'
import { startSystem, type System } from './system.ts'
import { newWorld } from './world.ts'

// Issue 11's standing test: random sequences of user actions, provider behaviour and time, run
// against the real SQL, the real billing and webhook apps and the fake providers; after every
// step the money rules (tests/model/invariants.ts) are checked. README.md here says how to read a
// counterexample and how `npm run fuzz` runs it longer.
const config = modelConfig()

let sys: System

// The functions' JSON log lines are shown only when the sequence fails (vitest silent: 'passed-only').
beforeAll(async () => {
  sys = await startSystem()
}, 60_000)

afterAll(async () => {
  await sys?.close()
})

describe('sequences of user and provider actions', () => {
  it(
    'keep the money rules after every step',
    async () => {
      if (config.fuzz) {
        console.log(
          `model: seed ${config.seed}, ${config.runs} runs of up to ${config.maxSteps} steps\n` +
            `actions: ${[...config.actions].join(', ')}\ninvariants: ${[...config.invariants].join(', ')}`,
        )
      }
      const steps = fc.commands([stepArbitrary([...config.actions])], {
        maxCommands: config.maxSteps,
        size: 'max',
      })
      await fc.assert(
        // The integer seeds the Stripe event ids of the run (their order decides same-second ties).
        fc.asyncProperty(fc.integer(), steps, async (idSeed, commands) => {
          const world = await newWorld(sys, config, idSeed)
          await fc.asyncModelRun(() => ({ model: {}, real: world }), commands)
          if (process.env.MODEL_TRACE === '1') console.log(`run:\n${world.log.join('\n')}`)
        }),
        {
          seed: config.seed,
          numRuns: config.runs,
          // On failure fast-check prints the shrunk counterexample and its seed; the cause under it
          // names the broken rule, Tollgate's state and the run's steps with what the system answered.
          verbose: 0,
        },
      )
    },
    config.fuzz ? 3_600_000 : 120_000,
  )
})
