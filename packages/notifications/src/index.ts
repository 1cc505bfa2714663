export * from './format.ts'
export * from './kinds.ts'
export * from './templates.ts'
export * from './dispatch.ts'
