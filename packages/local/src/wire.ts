import { createServer, type Socket } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket'

/** A PGlite served over the Postgres wire protocol on 127.0.0.1. */
export type WireServer = {
  port: number
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string
  /** Stops accepting, drops every connection (rolling back what it left open) and waits. */
  close: () => Promise<void>
}

type Queue = PGLiteSocketHandlerOptions['queryQueue']

type Pending = {
  handlerId: number
  message: Uint8Array
  onData: (data: Uint8Array) => void
  resolve: (bytes: number) => void
  reject: (error: Error) => void
}

const READY_FOR_QUERY = 0x5a // 'Z'
const IDLE = 0x49 // 'I': no transaction open
const TERMINATE = 0x58 // 'X'

// Sync ends an extended-protocol exchange (and an error's skip-until-Sync); then a plain
// ROLLBACK ends any transaction. Both are harmless on an idle session.
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4)
const ROLLBACK = ((text: string) => {
  const body = new TextEncoder().encode(`${text}\0`)
  const message = new Uint8Array(5 + body.length)
  message[0] = 0x51 // 'Q'
  new DataView(message.buffer).setInt32(1, 4 + body.length)
  message.set(body, 5)
  return message
})('rollback')

/** The transaction status of the last ReadyForQuery in a backend reply, or null if it has none. */
export const readyStatus = (reply: Uint8Array): number | null => {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength)
  let status: number | null = null
  for (let at = 0; at + 5 <= reply.length;) {
    const length = view.getInt32(at + 1)
    if (length < 4) break
    if (reply[at] === READY_FOR_QUERY && at + 5 < reply.length) status = reply[at + 5] ?? null
    at += 1 + length
  }
  return status
}

const concat = (chunks: Uint8Array[]): Uint8Array => {
  if (chunks.length === 1 && chunks[0]) return chunks[0]
  const all = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0))
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.length
  }
  return all
}

/**
 * pglite-socket's queue interleaves clients message by message and keeps a client only inside an
 * explicit transaction block, so two clients' Parse/Bind/Execute mix ("portal does not exist").
 * This queue gives the one backend session to one client from its first message until the
 * backend is idle again (ReadyForQuery 'I'): every client sees a session of its own.
 */
const sessionQueue = (db: PGlite): Queue => {
  let pending: Pending[] = []
  let owner: number | null = null
  let running = false

  const run = async (item: Pending): Promise<void> => {
    // The socket closes right after Terminate; the session is shared, so it must live on.
    if (item.message[0] === TERMINATE) return item.resolve(0)
    owner = item.handlerId
    const reply: Uint8Array[] = []
    try {
      await db.runExclusive(() =>
        db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            reply.push(data.slice())
            item.onData(data)
          },
        }),
      )
    } catch (error) {
      return item.reject(error instanceof Error ? error : new Error(String(error)))
    }
    if (readyStatus(concat(reply)) === IDLE) owner = null
    item.resolve(reply.reduce((size, data) => size + data.length, 0))
  }

  const pump = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      for (;;) {
        const next = owner === null ? 0 : pending.findIndex((item) => item.handlerId === owner)
        const item = pending[next]
        if (next === -1 || item === undefined) break
        pending.splice(next, 1)
        await run(item)
      }
    } finally {
      running = false
    }
  }

  const enqueue = (handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void) =>
    new Promise<number>((resolve, reject) => {
      pending.push({ handlerId, message, onData, resolve, reject })
      void pump()
    })

  const clearQueueForHandler = (handlerId: number): void => {
    const gone = pending.filter((item) => item.handlerId === handlerId)
    pending = pending.filter((item) => item.handlerId !== handlerId)
    for (const item of gone) item.reject(new Error('client disconnected'))
  }

  // A client that left mid-exchange or mid-transaction: end both before anyone else goes on.
  // Never rejects: the handler calls it from a socket's close event, where nothing would catch.
  const clearTransactionIfNeeded = async (handlerId: number): Promise<void> => {
    if (owner !== handlerId) return
    try {
      for (const message of [SYNC, ROLLBACK]) {
        await new Promise<number>((resolve, reject) => {
          pending.unshift({ handlerId, message, onData: () => {}, resolve, reject })
          void pump()
        })
      }
    } catch {
      if (owner === handlerId) owner = null
      void pump()
    }
  }

  const queue = { enqueue, clearQueueForHandler, clearTransactionIfNeeded }
  // The handler only calls these three methods; the class behind its option type is not exported.
  return queue as unknown as Queue
}

/** Serves `db` on 127.0.0.1 (`port` 0: any free port) to any number of postgres clients. */
export const serveWire = async (
  db: PGlite,
  options: { port?: number } = {},
): Promise<WireServer> => {
  await db.waitReady
  const queryQueue = sessionQueue(db)
  const handlers = new Set<PGLiteSocketHandler>()

  const server = createServer((socket: Socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true })
    handlers.add(handler)
    const forget = () => handlers.delete(handler)
    handler.addEventListener('close', forget)
    handler.addEventListener('error', forget)
    handler.attach(socket).catch(() => {
      forget()
      socket.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')

  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    await Promise.all([...handlers].map((handler) => handler.detach(true)))
    handlers.clear()
    await closed
  }

  return {
    port: address.port,
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    close,
  }
}
