/**
 * Several server instances. In process, over the in-memory fan-out hub and one store: the relay's
 * fan-out logic, fast and always run. Then several server processes behind a load balancer, sharing
 * real Postgres and Redis: what an operator runs beyond one machine. Those need
 * QM_TEST_DATABASE_URL (and Redis: a private redis-server is started here so the test may restart
 * it); .ci/run provides both.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, onTestFailed } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { Inventory } from '../sync/inventory.js'
import { MESSAGE, readDurable } from '../sync/protocol.js'
import type { Movement } from '../sync/schema.js'
import { hashPassword } from '../server/auth/passwords.js'
import { issueTokens } from '../server/auth/tokens.js'
import { openPostgresStorage } from '../server/storage/postgres.js'
import { startBalancer } from './support/balancer.js'
import type { Balancer } from './support/balancer.js'
import { freshSchema, testDatabaseUrl } from './support/postgres.js'
import { providerFor, startServerProcess } from './support/process.js'
import type { ServerProcess } from './support/process.js'
import { startPrivateRedis } from './support/redis-server.js'
import type { PrivateRedis } from './support/redis-server.js'
import { SECRET, eventually } from './support/server.js'
import { startServer } from '../server/server.js'
import type { RunningServer } from '../server/server.js'
import { MemoryFanoutHub } from '../server/scale/memory-fanout.js'
import type { MemoryFanout } from '../server/scale/memory-fanout.js'
import { createMemoryStorage } from '../server/storage/memory.js'
import type { Storage, UserRecord } from '../server/storage/types.js'

const url = testDatabaseUrl('the multi-instance suite')

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Cluster {
  readonly users: Record<string, UserRecord>
  readonly instances: ServerProcess[]
  readonly balancer: Balancer
  readonly redis: PrivateRedis
  readonly schema: string
  start(index: number): Promise<void>
  client(user: string, port: number): Promise<{ doc: Y.Doc; inv: Inventory; durable: () => number; destroy(): void }>
}

const cluster = async (databaseUrl: string): Promise<Cluster> => {
  const schema = freshSchema(databaseUrl)
  const setup = await openPostgresStorage(databaseUrl, { schema: schema.name })
  await setup.createTenant({ id: 'acme', name: 'Acme' })
  const hash = await hashPassword('a long enough password')
  const users: Record<string, UserRecord> = {}
  for (const [name, role] of [['admin', 'admin'], ['ann', 'editor'], ['bob', 'editor']] as const) {
    users[name] = await setup.createUser({ tenant: 'acme', username: name, name, role, passwordHash: hash })
  }
  await setup.close()
  const redis = await startPrivateRedis()
  const instances: ServerProcess[] = []
  const env = {
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema.name,
    REDIS_URL: redis.url,
    SNAPSHOT_INTERVAL_MINUTES: '0',
  }
  const start = async (index: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'qm-scale-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const proc = await startServerProcess(dir, 0, env)
    cleanups.push(() => {
      proc.child.kill('SIGKILL')
    })
    instances[index] = proc
  }
  await Promise.all([start(0), start(1)])
  // What the servers said, when a test fails: the cause is usually there.
  onTestFailed(() => {
    for (const [i, p] of instances.entries()) console.error(`--- instance ${i} (port ${p.port}) ---\n${p.output.join('')}`)
  })
  const balancer = await startBalancer(instances.map((i) => i.port))
  cleanups.push(() => balancer.close())
  cleanups.push(() => redis.stop())
  cleanups.push(() => schema.drop())
  return {
    users,
    instances,
    balancer,
    redis,
    schema: schema.name,
    start,
    client: async (user, port) => {
      const u = users[user] as UserRecord
      const provider = await providerFor(port, u, { ext: true })
      let stored = 0
      provider.messageHandlers[MESSAGE.durable] = (_e, d: decoding.Decoder) => {
        stored = Y.decodeStateVector(readDurable(d)).get(provider.doc.clientID) ?? 0
      }
      const inv = new Inventory(provider.doc, { userId: u.id })
      cleanups.push(() => provider.destroy())
      await eventually(() => expect(provider.synced).toBe(true), 20_000)
      return { doc: provider.doc, inv, durable: () => stored, destroy: () => provider.destroy() }
    },
  }
}

const ownClock = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0

if (url) {
  describe('several instances on Postgres and Redis', () => {
    it('[SCALE-4] providers on two instances converge on every change within a second, and a restore through one reaches the other', async () => {
      const c = await cluster(url)
      const [one, two] = c.instances as [ServerProcess, ServerProcess]
      const a = await c.client('ann', one.port)
      const b = await c.client('bob', two.port)
      const shelf = a.inv.createLocation({ name: 'Shelf' })
      const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 2 })
      await eventually(() => expect(b.inv.item(bolts)).toBeDefined())
      const latencies: number[] = []
      for (let i = 0; i < 10; i++) {
        const [from, to] = i % 2 === 0 ? [a, b] : [b, a]
        const before = to.inv.onHand(bolts)
        const started = performance.now()
        from.inv.receive({ item: bolts, location: shelf, quantity: 1 })
        await eventually(() => expect(to.inv.onHand(bolts)).toBe(before + 1), 5000)
        latencies.push(performance.now() - started)
      }
      expect(Math.max(...latencies), `cross-instance latencies ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`).toBeLessThan(1000)

      // A snapshot and a restore made through instance one; bob on instance two sees it.
      const admin = c.users['admin'] as UserRecord
      const { token } = await issueTokens(SECRET, admin)
      const post = (port: number, path: string) =>
        fetch(`http://127.0.0.1:${port}/api/tenants/acme${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      const snap = (await (await post(one.port, '/snapshots')).json()) as { id: string }
      b.inv.pick({ item: bolts, location: shelf, quantity: 7 })
      await eventually(() => expect(a.inv.onHand(bolts)).toBe(3))
      expect((await post(one.port, `/snapshots/${snap.id}/restore`)).status).toBe(200)
      await eventually(() => expect(b.inv.onHand(bolts)).toBe(10))
    })

    it('[SCALE-7] an alert is raised once, not once per instance, and live streams on every instance hear of it', async () => {
      const c = await cluster(url)
      const [one, two] = c.instances as [ServerProcess, ServerProcess]
      const a = await c.client('ann', one.port)
      const b = await c.client('bob', two.port)
      const shelf = a.inv.createLocation({ name: 'Shelf' })
      const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 5 })
      a.inv.receive({ item: bolts, location: shelf, quantity: 10 })
      await eventually(() => expect(b.inv.onHand(bolts)).toBe(10))
      // Live streams on both instances, whichever one holds the tenant's alert duty.
      const { token } = await issueTokens(SECRET, c.users['admin'] as UserRecord)
      const streams = await Promise.all([one.port, two.port].map(async (port) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/tenants/acme/alerts/stream`, { headers: { authorization: `Bearer ${token}` } })
        const reader = (res.body as ReadableStream<Uint8Array>).getReader()
        const seen = { text: '' }
        void (async () => {
          for (;;) {
            const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
            if (done) return
            seen.text += new TextDecoder().decode(value)
          }
        })()
        cleanups.push(() => reader.cancel().catch(() => undefined))
        return seen
      }))
      // Both instances see changes that cross the reorder point, from their own devices.
      for (let i = 0; i < 3; i++) {
        a.inv.pick({ item: bolts, location: shelf, quantity: 1 })
        b.inv.pick({ item: bolts, location: shelf, quantity: 1 })
      }
      await eventually(() => expect(a.inv.onHand(bolts)).toBe(4))
      const alertsAt = async (port: number) =>
        ((await (await fetch(`http://127.0.0.1:${port}/api/tenants/acme/alerts?status=all`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          alerts: Array<{ kind: string; item: string | null }>
        }).alerts.filter((x) => x.item === bolts)
      await eventually(async () => expect((await alertsAt(one.port)).map((x) => x.kind)).toEqual(['low_stock']), 20_000)
      await new Promise((r) => setTimeout(r, 500)) // anything a second instance would add, it has added now
      expect((await alertsAt(two.port)).map((x) => x.kind)).toEqual(['low_stock'])
      // Each live stream heard of it once.
      await eventually(() => {
        for (const stream of streams) expect(stream.text.match(/^event: alert\.opened$/gm)?.length).toBe(1)
      }, 10_000)
      // The mirror in the document says the same on both sides.
      await eventually(() => {
        for (const d of [a.doc, b.doc]) expect([...d.getMap('alerts').keys()].filter((k) => k.includes(bolts))).toEqual([`low_stock:${bolts}`])
      })
    })

    it('[SCALE-5] an instance killed with SIGKILL while its clients write: they reconnect to the other, nothing acknowledged is lost, all converge', async () => {
      const c = await cluster(url)
      const writers = [await c.client('ann', c.balancer.port), await c.client('bob', c.balancer.port)]
      const shelf = (writers[0] as { inv: Inventory }).inv.createLocation({ name: 'Shelf' })
      const bolts = (writers[0] as { inv: Inventory }).inv.createItem({ sku: 'BOLT', name: 'Bolt' })
      await eventually(() => expect(writers.every((w) => w.inv.item(bolts) && w.inv.location(shelf))).toBe(true))
      const written: Array<{ id: string; clock: number; writer: number }> = []
      let writing = true
      const write = (w: number) => {
        if (!writing) return
        const writer = writers[w] as { inv: Inventory; doc: Y.Doc }
        const m = writer.inv.receive({ item: bolts, location: shelf, quantity: 1 })
        written.push({ id: m.id, clock: ownClock(writer.doc), writer: w })
        setTimeout(() => write(w), 5)
      }
      write(0)
      write(1)
      await eventually(() => expect(writers.every((w) => w.durable() > 20)).toBe(true), 20_000)
      const acknowledged = () => written.filter((x) => x.clock <= (writers[x.writer] as { durable: () => number }).durable()).map((x) => x.id)
      const ackedBeforeKill = acknowledged()
      ;(c.instances[0] as ServerProcess).child.kill('SIGKILL')
      await new Promise((r) => setTimeout(r, 500))
      writing = false
      // Everyone ends with everything written, exactly once, through the surviving instance.
      await eventually(() => {
        for (const w of writers) expect(w.inv.movementsOf(bolts).length).toBe(written.length)
      }, 30_000)
      const late = await c.client('admin', (c.instances[1] as ServerProcess).port)
      await eventually(() => expect(late.inv.movementsOf(bolts).length).toBe(written.length), 30_000)
      const ids = late.inv.movementsOf(bolts).map((m: Movement) => m.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const id of ackedBeforeKill) expect(ids).toContain(id)
      expect(late.inv.onHand(bolts)).toBe(written.length)
    })

    it('[SCALE-6] Redis restarted mid-run: the instances recover and converge', async () => {
      const c = await cluster(url)
      const [one, two] = c.instances as [ServerProcess, ServerProcess]
      const a = await c.client('ann', one.port)
      const b = await c.client('bob', two.port)
      const shelf = a.inv.createLocation({ name: 'Shelf' })
      const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
      await eventually(() => expect(b.inv.item(bolts)).toBeDefined())
      await c.redis.stop()
      a.inv.receive({ item: bolts, location: shelf, quantity: 4 }) // stored, but nobody hears of it
      b.inv.receive({ item: bolts, location: shelf, quantity: 3 })
      await eventually(() => expect(a.durable()).toBe(ownClock(a.doc)), 10_000) // durability never needed Redis
      await c.redis.start()
      await eventually(() => {
        expect(a.inv.onHand(bolts)).toBe(7)
        expect(b.inv.onHand(bolts)).toBe(7)
      }, 30_000)
      a.inv.pick({ item: bolts, location: shelf, quantity: 1 })
      await eventually(() => expect(b.inv.onHand(bolts)).toBe(6), 10_000)
    })
  })
}

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

const storedInventoryOf = async (storage: Storage) => {
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

  it('[SCALE-8] an update lost on the way between instances is caught up from the store as soon as a later one cannot integrate', async () => {
    const { servers, users, fanouts, client } = await twoInstances()
    const [ann, bob] = users as [UserRecord, UserRecord]
    const a = await client(servers[0] as RunningServer, ann)
    const b = await client(servers[1] as RunningServer, bob)
    const shelf = a.inv.createLocation({ name: 'Shelf' })
    const bolts = a.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    await eventually(() => expect(b.inv.item(bolts)).toBeDefined())
    ;(fanouts[0] as MemoryFanout).dropNext(1) // instance one never hears of bob's next change
    b.inv.receive({ item: bolts, location: shelf, quantity: 5 })
    await new Promise((r) => setTimeout(r, 100))
    b.inv.receive({ item: bolts, location: shelf, quantity: 2 }) // builds on the lost one
    await eventually(() => expect(a.inv.onHand(bolts)).toBe(7))
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
    await eventually(async () => expect((await storedInventoryOf(storage)).onHand(bolts)).toBe(60))
    // A device that loads everything from the store (through either instance) sees all 60.
    const late = await client(servers[1] as RunningServer, cat)
    await eventually(() => expect(late.inv.onHand(bolts)).toBe(60))
    expect((await storage.loadDocument('acme')).compactedThrough).toBeGreaterThan(0)
  })
})
