/**
 * Two relay instances in one process sharing one store and an in-memory fan-out hub: the
 * behaviour of fan-out in the relay, fast and without Redis (test/scale.test.ts runs the same
 * questions against real processes, Postgres and Redis).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Inventory } from '../sync/inventory.js'
import { hashPassword } from '../server/auth/passwords.js'
import { startServer } from '../server/server.js'
import type { RunningServer } from '../server/server.js'
import { MemoryFanoutHub } from '../server/scale/memory-fanout.js'
import type { MemoryFanout } from '../server/scale/memory-fanout.js'
import { createMemoryStorage } from '../server/storage/memory.js'
import type { Storage, UserRecord } from '../server/storage/types.js'
import { providerFor } from './support/process.js'
import { SECRET, eventually } from './support/server.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const twoInstances = async (limits: { compactEveryUpdates?: number } = {}) => {
  const storage: Storage = createMemoryStorage()
  await storage.createTenant({ id: 'acme', name: 'Acme' })
  const hash = await hashPassword('a long enough password')
  const users: UserRecord[] = []
  for (const name of ['ann', 'bob', 'cat']) users.push(await storage.createUser({ tenant: 'acme', username: name, name, role: 'editor', passwordHash: hash }))
  const hub = new MemoryFanoutHub()
  const fanouts: MemoryFanout[] = [hub.instance('a'), hub.instance('b')]
  const servers: RunningServer[] = []
  for (const fanout of fanouts) {
    servers.push(await startServer({ storage, secret: SECRET, fanout, limits: { idleUnloadMs: 60_000, ...limits } }))
  }
  cleanups.push(async () => {
    for (const s of servers) await s.close()
    await storage.close()
  })
  const client = async (server: RunningServer, user: UserRecord) => {
    const provider = await providerFor(server.port, user, { ext: true })
    cleanups.push(() => provider.destroy())
    await eventually(() => expect(provider.synced).toBe(true))
    return { provider, doc: provider.doc, inv: new Inventory(provider.doc, { userId: user.id }) }
  }
  return { storage, users, servers, fanouts, client }
}

const storedInventory = async (storage: Storage) => {
  const stored = await storage.loadDocument('acme')
  const doc = new Y.Doc()
  if (stored.state) Y.applyUpdate(doc, stored.state)
  for (const u of stored.updates) Y.applyUpdate(doc, u)
  return new Inventory(doc, { userId: 'reader' })
}

describe('several instances (in process)', () => {
  it('[SCALE-1] providers on different instances converge on every change, and presence crosses instances', async () => {
    const { servers, users, client } = await twoInstances()
    const [ann, bob] = users as [UserRecord, UserRecord]
    const a = await client(servers[0] as RunningServer, ann)
    const b = await client(servers[1] as RunningServer, bob)
    const shelf = a.inv.createLocation({ name: 'Shelf' })
    const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    a.inv.receive({ item: bolts, location: shelf, quantity: 10 })
    await eventually(() => expect(b.inv.onHand(bolts)).toBe(10))
    b.inv.pick({ item: bolts, location: shelf, quantity: 3 })
    a.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => {
      expect(a.inv.onHand(bolts)).toBe(6)
      expect(b.inv.onHand(bolts)).toBe(6)
    })
    a.provider.awareness.setLocalState({ viewing: bolts })
    await eventually(() =>
      expect(b.provider.awareness.getStates().get(a.doc.clientID)).toMatchObject({ viewing: bolts, user: { id: ann.id } }),
    )
  })

  it('[SCALE-2] an instance cut off from the others catches up from the store when the link returns', async () => {
    const { servers, users, fanouts, client } = await twoInstances()
    const [ann, bob] = users as [UserRecord, UserRecord]
    const a = await client(servers[0] as RunningServer, ann)
    const b = await client(servers[1] as RunningServer, bob)
    const shelf = a.inv.createLocation({ name: 'Shelf' })
    const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    await eventually(() => expect(b.inv.item(bolts)).toBeDefined())
    ;(fanouts[1] as MemoryFanout).disconnect()
    a.inv.receive({ item: bolts, location: shelf, quantity: 5 })
    await new Promise((r) => setTimeout(r, 150))
    expect(b.inv.onHand(bolts)).toBe(0) // missed while cut off
    ;(fanouts[1] as MemoryFanout).reconnect()
    await eventually(() => expect(b.inv.onHand(bolts)).toBe(5))
  })

  it('[SCALE-3] compaction never drops an update another instance stored', async () => {
    const { servers, users, client, storage } = await twoInstances({ compactEveryUpdates: 3 })
    const [ann, bob, cat] = users as [UserRecord, UserRecord, UserRecord]
    const a = await client(servers[0] as RunningServer, ann)
    const b = await client(servers[1] as RunningServer, bob)
    const shelf = a.inv.createLocation({ name: 'Shelf' })
    const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    await eventually(() => expect(b.inv.item(bolts)).toBeDefined())
    for (let i = 0; i < 30; i++) {
      a.inv.receive({ item: bolts, location: shelf, quantity: 1 })
      b.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    }
    await eventually(() => expect(a.inv.onHand(bolts)).toBe(60))
    await eventually(async () => expect((await storedInventory(storage)).onHand(bolts)).toBe(60))
    // A device that loads everything from the store (through either instance) sees all 60.
    const late = await client(servers[1] as RunningServer, cat)
    await eventually(() => expect(late.inv.onHand(bolts)).toBe(60))
    expect((await storage.loadDocument('acme')).compactedThrough).toBeGreaterThan(0)
  })
})

