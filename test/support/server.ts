/** A real Quartermaster server on port 0 with a tenant and users, and real providers against it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import WS from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { Inventory } from '../../sync/inventory.js'
import type { Role } from '../../sync/origin.js'
import { MESSAGE, readDurable, readRejected } from '../../sync/protocol.js'
import type { RejectedChange } from '../../sync/protocol.js'
import { hashPassword } from '../../server/auth/passwords.js'
import { issueTokens } from '../../server/auth/tokens.js'
import { startServer } from '../../server/server.js'
import type { RunningServer, ServerOptions } from '../../server/server.js'
import type { RelayHooks, RelayLimits } from '../../server/relay/types.js'
import { createMemoryStorage } from '../../server/storage/memory.js'
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import type { Storage, UserRecord } from '../../server/storage/types.js'

export const SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'
export const PASSWORD = 'correct horse battery'

export interface TestServer {
  readonly server: RunningServer
  readonly storage: Storage
  readonly users: Record<string, UserRecord>
  token(username: string, tenant?: string): Promise<string>
  client(username: string, options?: ClientOptions): Promise<TestClient>
  /** Calls a route under /api/tenants/<tenant> as the user, with a JSON body if one is given. */
  api(username: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>
  stop(): Promise<void>
}

export interface ClientOptions {
  readonly doc?: Y.Doc
  readonly tenant?: string
  readonly token?: string
  readonly ext?: boolean
  readonly connect?: boolean
}

export interface TestClient {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  readonly inv: Inventory
  readonly rejected: RejectedChange[]
  /** The last state vector the server said it stored. */
  durable: Map<number, number> | null
  readonly closes: Array<{ code: number; reason: string }>
  destroy(): void
}

/** Polls until `check` passes (returns without throwing) or the time is up. */
export const eventually = async (check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> => {
  const started = Date.now()
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

export const startTestServer = async (
  options: {
    storage?: 'memory' | 'sqlite'
    limits?: Partial<RelayLimits>
    users?: Record<string, Role>
    wrapHooks?: (hooks: RelayHooks) => RelayHooks
    alerts?: ServerOptions['alerts']
    clientDir?: string | null
  } = {},
): Promise<TestServer> => {
  let dir: string | null = null
  let storage: Storage
  if (options.storage === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'qm-test-'))
    storage = openSqliteStorage(dir)
  } else {
    storage = createMemoryStorage()
  }
  const passwordHash = await hashPassword(PASSWORD)
  const users: Record<string, UserRecord> = {}
  for (const tenant of ['acme', 'globex']) {
    await storage.createTenant({ id: tenant, name: tenant })
  }
  const wanted = options.users ?? { admin: 'admin', ed: 'editor', edna: 'editor', vic: 'viewer' }
  for (const [username, role] of Object.entries(wanted)) {
    users[username] = await storage.createUser({ tenant: 'acme', username, name: username.toUpperCase(), role, passwordHash })
  }
  users['gus'] = await storage.createUser({ tenant: 'globex', username: 'gus', name: 'Gus', role: 'admin', passwordHash })
  const server = await startServer({
    storage,
    secret: SECRET,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.wrapHooks ? { wrapHooks: options.wrapHooks } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.clientDir !== undefined ? { clientDir: options.clientDir } : {}),
  })
  const clients: TestClient[] = []

  const token = async (username: string) => {
    const user = users[username]
    if (!user) throw new Error(`no test user ${username}`)
    return (await issueTokens(SECRET, user)).token
  }

  const client = async (username: string, o: ClientOptions = {}): Promise<TestClient> => {
    const doc = o.doc ?? new Y.Doc()
    const params: Record<string, string> = { token: o.token ?? (await token(username)) }
    if (o.ext !== false) params.ext = '1'
    const provider = new WebsocketProvider(server.wsUrl, o.tenant ?? 'acme', doc, {
      params,
      WebSocketPolyfill: WS as unknown as typeof WebSocket,
      disableBc: true,
      connect: o.connect ?? true,
      maxBackoffTime: 200,
    })
    const c: TestClient = {
      doc,
      provider,
      inv: new Inventory(doc, { userId: users[username]?.id ?? username }),
      rejected: [],
      durable: null,
      closes: [],
      destroy: () => {
        provider.destroy()
        c.inv.destroy()
      },
    }
    provider.messageHandlers[MESSAGE.durable] = (_e, d: decoding.Decoder) => {
      c.durable = Y.decodeStateVector(readDurable(d))
    }
    provider.messageHandlers[MESSAGE.rejected] = (_e, d: decoding.Decoder) => {
      c.rejected.push(...readRejected(d))
    }
    provider.on('connection-close', (event) => {
      if (event) c.closes.push({ code: event.code, reason: event.reason })
    })
    clients.push(c)
    return c
  }

  const api = async (username: string, method: string, path: string, body?: unknown) => {
    const tenant = users[username]?.tenant ?? 'acme'
    const res = await fetch(`${server.url}/api/tenants/${tenant}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token(username)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> }
  }

  return {
    server,
    storage,
    users,
    token,
    client,
    api,
    stop: async () => {
      for (const c of clients) {
        try {
          c.destroy()
        } catch {
          // a provider fed hostile data may fail to tidy up; the server must still stop
        }
      }
      await server.close()
      await storage.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until the provider has synced with the server. */
export const synced = (c: TestClient): Promise<void> => eventually(() => {
  if (!c.provider.synced) throw new Error('not synced yet')
})

/** True when the server has stored everything this client wrote (per its last durable message). */
export const allSaved = (c: TestClient): boolean => {
  if (!c.durable) return false
  const mine = Y.decodeStateVector(Y.encodeStateVector(c.doc)).get(c.doc.clientID) ?? 0
  return (c.durable.get(c.doc.clientID) ?? 0) >= mine
}

/** A provider of the admin with a shelf and an item with 10 units, all stored. */
export const seedInventory = async (t: TestServer): Promise<{ admin: TestClient; shelf: string; bolts: string }> => {
  const admin = await t.client('admin')
  await synced(admin)
  const shelf = admin.inv.createLocation({ name: 'Shelf' })
  const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 3 })
  admin.inv.receive({ item: bolts, location: shelf, quantity: 10 })
  await eventually(() => {
    if (!allSaved(admin)) throw new Error('not saved yet')
  })
  return { admin, shelf, bolts }
}
