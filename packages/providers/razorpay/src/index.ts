export * from './billing.ts'
export * from './orders.ts'
export * from './signature.ts'
export * from './webhook.ts'
