export * from './actions.ts'
export * from './client.ts'
export * from './normalize.ts'
export * from './webhook.ts'
