import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db, withClaims } from '../../db/src/client.ts'
import { readyStatus, serveWire, type WireServer } from './wire.ts'

let pg: PGlite
let wire: WireServer
const pools: Db[] = []

beforeAll(async () => {
  pg = await PGlite.create()
  await pg.exec(`
    create role authenticated nologin;
    create table notes (id int primary key, body text not null);
    grant select on notes to authenticated;`)
  wire = await serveWire(pg)
})

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end({ timeout: 1 })))
  await wire?.close()
  await pg?.close()
})

// As the functions open them: createDb's pools of 5 connections, one per function.
const pool = (): Db => {
  const db = createDb(wire.url, { max: 5 })
  pools.push(db)
  return db
}

const sqlState = (error: unknown) => (error as { code?: string }).code

describe('serveWire', () => {
  it('gives every pooled connection a session of its own while many run at once', async () => {
    const functions = [pool(), pool(), pool()]
    const calls = Array.from({ length: 120 }, (_, i) => i)
    const outcomes = await Promise.all(
      calls.map(async (i) => {
        const db = functions[i % 3] as Db
        switch (i % 4) {
          case 0:
            // A PostgREST-style transaction: role and claims set locally, read back twice.
            return withClaims(db, { role: 'authenticated', sub: `user-${i}` }, async (tx) => {
              const [first] = await tx`select current_user as role, ${i}::int as i`
              const [second] = await tx`
                select pg_catalog.current_setting('request.jwt.claims')::jsonb ->> 'sub' as sub`
              return { ...first, ...second }
            })
          case 1:
            return db`select 1 / 0 as x, ${i}::int as i`.catch(sqlState)
          case 2:
            return db
              .begin(async (tx) => {
                await tx`insert into notes values (${i}, ${`note ${i}`})`
                await tx`select 1 / 0`
              })
              .catch(sqlState)
          default: {
            const [row] = await db`
              insert into notes values (${i}, ${`note ${i}`}) returning id, current_user as role`
            return row
          }
        }
      }),
    )
    expect(outcomes).toEqual(
      calls.map((i) => {
        switch (i % 4) {
          case 0:
            return { role: 'authenticated', i, sub: `user-${i}` }
          case 1:
          case 2:
            return '22012'
          default:
            return { id: i, role: 'postgres' }
        }
      }),
    )
    const [db] = functions as [Db]
    const ids = await db<{ id: number }[]>`select id from notes order by id`
    expect(ids.map((row) => row.id)).toEqual(calls.filter((i) => i % 4 === 3))
    expect(await db`select current_user as role`).toEqual([{ role: 'postgres' }])
    expect(pg.isInTransaction()).toBe(false)
  })

  it('rolls back what a client left open when it disconnects, and serves the others on', async () => {
    const other = pool()
    const leaving = postgres(wire.url, { max: 1, onnotice: () => {} })
    const reserved = await leaving.reserve()
    await reserved`begin`
    await reserved`insert into notes values (-1, 'never committed')`
    await reserved`set local role authenticated`
    // Meanwhile another client waits for the session.
    const waiting = other`select count(*)::int as count from notes where id = -1`.execute()
    await leaving.end({ timeout: 0 })
    expect(await waiting).toEqual([{ count: 0 }])
    expect(await other`select current_user as role`).toEqual([{ role: 'postgres' }])
    expect(pg.isInTransaction()).toBe(false)
  })

  it('reads the transaction status of the last ReadyForQuery of a reply', () => {
    const frame = (type: string, body: number[]) => {
      const length = new DataView(new ArrayBuffer(4))
      length.setInt32(0, 4 + body.length)
      return [type.charCodeAt(0), ...new Uint8Array(length.buffer), ...body]
    }
    const commandComplete = frame('C', [...new TextEncoder().encode('BEGIN\0')])
    const ready = (status: string) => frame('Z', [status.charCodeAt(0)])
    expect(readyStatus(Uint8Array.from([...commandComplete, ...ready('T')]))).toBe(0x54)
    expect(readyStatus(Uint8Array.from([...ready('E'), ...ready('I')]))).toBe(0x49)
    expect(readyStatus(Uint8Array.from(commandComplete))).toBe(null)
  })
})
