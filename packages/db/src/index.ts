export * from './cluster.ts'
export * from './migrate.ts'
export * from './split.ts'
