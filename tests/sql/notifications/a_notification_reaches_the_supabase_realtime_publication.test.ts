import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../../packages/db/src/cluster.ts'
import { applyBootstrap, applyMigrations } from '../../../packages/db/src/migrate.ts'

// Supabase Realtime streams the tables of the publication supabase_realtime through logical
// replication. A cluster of our own with wal_level = logical (as Supabase runs) and that
// publication, as Supabase creates it before any migration: the migrations add the notifications
// table to it, and a notification written in a transaction comes out of a pgoutput slot.
let cluster: Cluster
let admin: postgres.Sql

beforeAll(async () => {
  cluster = await startCluster({ settings: ['wal_level=logical', 'max_replication_slots=4'] })
  admin = postgres(cluster.superuserUrl, { max: 1, onnotice: () => {} })
  await applyBootstrap(admin)
  // Owned by postgres, as on Supabase (where the SQL editor's `alter publication` works).
  await admin`create publication supabase_realtime`
  await admin`alter publication supabase_realtime owner to postgres`
  const owner = postgres(cluster.url('postgres'), { max: 1, onnotice: () => {}, prepare: false })
  try {
    await applyMigrations(owner)
  } finally {
    await owner.end()
  }
}, 120_000)

afterAll(async () => {
  await admin?.end()
  await cluster?.stop()
})

describe('tollgate.notifications and Supabase Realtime', () => {
  it('is in the supabase_realtime publication, and a new notification comes out of it', async () => {
    const tables = await admin<{ t: string }[]>`
      select schemaname || '.' || tablename as t from pg_catalog.pg_publication_tables
      where pubname = 'supabase_realtime'`
    expect(tables.map((r) => r.t)).toEqual(['tollgate.notifications'])

    await admin`select pg_catalog.pg_create_logical_replication_slot('realtime_test', 'pgoutput')`
    // Decoding reads flushed WAL only: commit synchronously (the test cluster runs with it off).
    await admin`set synchronous_commit = on`
    const [user] = await admin<{ id: string }[]>`
      insert into auth.users (id, email) values (gen_random_uuid(), 'live@example.com') returning id`
    await admin`select tollgate_private.notify(${user?.id ?? ''}, 'plan_changed', 'live', 'Title', 'Body', '{}')`
    const changes = await admin<{ data: Buffer }[]>`
      select data from pg_catalog.pg_logical_slot_get_binary_changes('realtime_test', null, null,
        'proto_version', '1', 'publication_names', 'supabase_realtime')`
    // pgoutput: 'R' announces the relation (namespace and name as C strings), 'I' is an insert.
    const messages = changes.map((c) => c.data)
    const relation = messages.find((m) => m[0] === 'R'.charCodeAt(0))
    expect(relation?.includes(Buffer.from('tollgate\0notifications\0'))).toBe(true)
    const inserts = messages.filter((m) => m[0] === 'I'.charCodeAt(0))
    expect(inserts).toHaveLength(1)
    expect(inserts[0]?.includes(Buffer.from('Title'))).toBe(true)
    await admin`select pg_catalog.pg_drop_replication_slot('realtime_test')`
  })
})
