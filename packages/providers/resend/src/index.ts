export * from './backoff.ts'
export * from './send.ts'
