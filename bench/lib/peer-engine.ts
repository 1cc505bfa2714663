import { createRequire } from 'node:module'
import postgres from 'postgres'
import { startCluster, type Cluster } from '../../packages/db/src/cluster.ts'

/** The peer of issue 17: Supabase's stripe-sync-engine (devDependency, pinned), its CommonJS build. */
export type SyncEngine = typeof import('@supabase/stripe-sync-engine')

/** The version the figure was written against (package.json pins it). */
export const PEER_VERSION = '0.48.5'

/**
 * Loads stripe-sync-engine's CommonJS build: 0.48.5's ES module build calls `__dirname` in
 * runMigrations, which is undefined there (the migrations fail and the error is only logged);
 * the CommonJS build has it. Both builds are the same code otherwise.
 */
export const loadSyncEngine = (): SyncEngine =>
  createRequire(import.meta.url)('@supabase/stripe-sync-engine') as SyncEngine

/** The schema the peer writes (its default). */
export const PEER_SCHEMA = 'stripe'

/** The peer's tables the stream writes. */
export const PEER_TABLES = [
  'subscriptions',
  'subscription_items',
  'invoices',
  'checkout_sessions',
  'checkout_session_line_items',
  'prices',
].map((table) => `${PEER_SCHEMA}.${table}`)

/** The peer's own throwaway cluster with its migrations applied. */
export type PeerDatabase = {
  cluster: Cluster
  /** The role the peer runs as: `postgres`, owner of its database (as on Supabase). */
  url: string
  /** A superuser on its database (checkpoint, analyze). */
  superUrl: string
  stop: () => Promise<void>
}

const DATABASE = 'stripe_sync_bench'

/**
 * Starts a durable throwaway PostgreSQL 15 for the peer and applies its migrations with its own
 * runMigrations (they give functions to a role `postgres`, which a plain cluster lacks).
 */
export const createPeerDatabase = async (): Promise<PeerDatabase> => {
  const cluster = await startCluster({ durable: true })
  try {
    await cluster.createDatabase(DATABASE)
    const superUrl = cluster.url(DATABASE, 'supabase_admin')
    const url = cluster.url(DATABASE, 'postgres')
    const admin = postgres(superUrl, { max: 1, onnotice: () => {} })
    try {
      await admin`create role postgres login`
      await admin.unsafe(`alter database ${DATABASE} owner to postgres`)
    } finally {
      await admin.end()
    }
    const errors: unknown[] = []
    // runMigrations logs its errors instead of throwing them.
    const logger = {
      info: () => {},
      warn: () => {},
      error: (error: unknown) => errors.push(error),
    }
    await loadSyncEngine().runMigrations({
      schema: PEER_SCHEMA,
      databaseUrl: url,
      logger: logger as unknown as NonNullable<
        Parameters<SyncEngine['runMigrations']>[0]['logger']
      >,
    })
    const check = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const [row] = await check<{ missing: string | null }[]>`
        select string_agg(t, ', ') as missing from unnest(${PEER_TABLES}::text[]) t
        where to_regclass(t) is null`
      const missing = row?.missing
      if (errors.length > 0 || missing) {
        throw new Error(
          `stripe-sync-engine's migrations failed (missing: ${missing ?? 'none'}): ` +
            errors
              .map((error) => (error instanceof Error ? error.message : String(error)))
              .join('; '),
        )
      }
    } finally {
      await check.end()
    }
    return { cluster, url, superUrl, stop: cluster.stop }
  } catch (error) {
    await cluster.stop()
    throw error
  }
}
