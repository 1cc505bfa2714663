import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { ErrorCodes } from '../../packages/core/src/errors.ts'
import { it, serviceKey, type ClientStack } from './support.ts'

// What an app calling the RPCs with plain supabase-js sees: the HTTP status the contract gives
// each code (packages/core/src/errors.ts), and PostgREST's error body with that code.

type Call = { status: number; error: { code: string; message: string } | null }

const expectError = (stack: ClientStack, call: Call, code: keyof typeof ErrorCodes) => {
  expect({ status: call.status, code: call.error?.code }).toEqual({
    status: ErrorCodes[code].status,
    code,
  })
  expect(stack.postgrest.requests.at(-1)).toMatchObject({ status: ErrorCodes[code].status, code })
}

describe('the usage RPCs through PostgREST', () => {
  it('answer an unknown metric 404 NOMET', async ({ stack }) => {
    const caller = await stack.signIn()
    const call = await caller.supabase
      .schema('tollgate')
      .rpc('consume_usage', { metric: 'no_such_metric' })
    expectError(stack, call, 'NOMET')
    expect(call.error?.message).toBe('Unknown metric no_such_metric')
  })

  it('answer an amount of 0 400 INAMT', async ({ stack }) => {
    const caller = await stack.signIn()
    const call = await caller.supabase
      .schema('tollgate')
      .rpc('consume_usage', { metric: 'api_calls', amount: 0 })
    expectError(stack, call, 'INAMT')
  })

  it('answer a key reused with another amount 409 IDKEY, and count it once', async ({ stack }) => {
    const caller = await stack.signIn()
    const rpc = (amount: number) =>
      caller.supabase
        .schema('tollgate')
        .rpc('consume_usage', { metric: 'api_calls', amount, idempotency_key: 'order-1' })
    expect((await rpc(2)).status).toBe(200)
    const call = await rpc(5)
    expectError(stack, call, 'IDKEY')
    expect(call.error).toMatchObject({ details: 'first used for api_calls 2' })
    const usage = await caller.tollgate.myUsage()
    expect(usage.find((u) => u.metric === 'api_calls')?.used).toBe(2)
  })

  it('answer the service role 404 NOUSR for a user that does not exist', async ({ stack }) => {
    const service = stack.clientFor(await serviceKey(), 'header')
    const call = await service.supabase
      .schema('tollgate')
      .rpc('service_role_consume_usage', { user_id: randomUUID(), metric: 'api_calls' })
    expectError(stack, call, 'NOUSR')
  })

  it('answer the service role 422 GAUGE for a release of a metric that resets', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    await caller.tollgate.consume('api_calls', 3)
    const service = stack.clientFor(await serviceKey(), 'header')
    const call = await service.supabase
      .schema('tollgate')
      .rpc('service_role_release_usage', { user_id: caller.id, metric: 'api_calls', amount: 1 })
    expectError(stack, call, 'GAUGE')
    expect(call.error).toMatchObject({ hint: 'Usage of a resetting metric is not given back.' })
  })
})
