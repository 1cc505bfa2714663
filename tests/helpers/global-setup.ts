import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { applyBootstrap, applyMigrations, applySeed } from '../../packages/db/src/migrate.ts'
import { startCluster } from '../../packages/db/src/cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test database as the owner role `postgres` (non-superuser in our cluster). */
    databaseUrl: string
    /** The test database as a superuser (equals databaseUrl when DATABASE_URL is given). */
    superuserUrl: string
    /** A connection allowed to `create database` for scratch databases (superuser in our cluster). */
    adminServerUrl: string
    /** True when the tests run against DATABASE_URL instead of a throwaway cluster. */
    externalDatabase: boolean
  }
}

const TEST_DATABASE = 'tollgate_test'

const connect = (url: string) => postgres(url, { max: 1, onnotice: () => {} })

const withSql = async <T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
  const sql = connect(url)
  try {
    return await fn(sql)
  } finally {
    await sql.end()
  }
}

const seedIsMissing = async (sql: postgres.Sql): Promise<boolean> => {
  const [row] = await sql<{ missing: boolean }[]>`
    select pg_catalog.to_regclass('tollgate.plans') is null as missing`
  if (!row || row.missing) return true
  const [plan] = await sql`select from tollgate.plans limit 1`
  return plan === undefined
}

/** Prepares the test database (throwaway cluster unless DATABASE_URL is set) and provides its URLs. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL
  if (external) {
    await withSql(external, async (sql) => {
      await applyBootstrap(sql)
      await applyMigrations(sql)
      if (await seedIsMissing(sql)) await applySeed(sql)
    })
    project.provide('databaseUrl', external)
    project.provide('superuserUrl', external)
    project.provide('adminServerUrl', external)
    project.provide('externalDatabase', true)
    return async () => {}
  }

  const cluster = await startCluster()
  try {
    await cluster.createDatabase(TEST_DATABASE)
    const superuserUrl = cluster.url(TEST_DATABASE, 'supabase_admin')
    const databaseUrl = cluster.url(TEST_DATABASE)
    await withSql(superuserUrl, (sql) => applyBootstrap(sql))
    // Migrations and seed run as the non-superuser owner, as `supabase db push` does on Supabase.
    await withSql(databaseUrl, async (sql) => {
      await applyMigrations(sql)
      await applySeed(sql)
    })
    project.provide('databaseUrl', databaseUrl)
    project.provide('superuserUrl', superuserUrl)
    project.provide('adminServerUrl', cluster.superuserUrl)
    project.provide('externalDatabase', false)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return () => cluster.stop()
}
