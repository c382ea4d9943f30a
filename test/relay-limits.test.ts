/**
 * The relay's limits and document lifecycle through real parts: a server on port 0 with small
 * limits, stock y-websocket providers over `ws`, and the store it writes to.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Inventory } from '../sync/inventory.js'
import type { RelayHooks } from '../server/relay/types.js'
import { allSaved, eventually, seedInventory, startTestServer, synced } from './support/server.js'
import type { TestServer } from './support/server.js'

let t: TestServer | null = null
const start = async (options: Parameters<typeof startTestServer>[0]): Promise<TestServer> => {
  t = await startTestServer(options)
  return t
}
afterEach(async () => {
  await t?.stop()
  t = null
})


/** The tenant document as the store holds it: compacted state plus the update log after it. */
const storedDoc = async (s: TestServer, tenant = 'acme'): Promise<Y.Doc> => {
  const stored = await s.storage.loadDocument(tenant)
  const doc = new Y.Doc()
  if (stored.state) Y.applyUpdate(doc, stored.state)
  for (const u of stored.updates) Y.applyUpdate(doc, u)
  return doc
}

const onHandIn = (doc: Y.Doc, item: string): number => {
  const inv = new Inventory(doc, { userId: 'reader', readOnly: true })
  try {
    return inv.onHand(item)
  } finally {
    inv.destroy()
  }
}

describe('relay limits', () => {
  it('[LIMIT-3] the (N+1)th connection of one user is closed with 4429; the others and other users stay up', async () => {
    const s = await start({ limits: { maxConnectionsPerUser: 2 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    const first = await s.client('ed')
    const second = await s.client('ed')
    await Promise.all([synced(first), synced(second)])
    const third = await s.client('ed')
    await eventually(() => expect(third.closes.map((c) => c.code)).toEqual([4429]))
    expect(third.closes[0]?.reason).toMatch(/too-many-connections/)
    expect(third.provider.synced).toBe(false)

    // The first two keep working, and another user is not counted against this one.
    const edna = await s.client('edna')
    await synced(edna)
    first.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => {
      for (const c of [admin, second, edna]) expect(c.inv.onHand(bolts)).toBe(9)
    })
    expect(first.closes).toEqual([])
    expect(second.closes).toEqual([])
    expect(third.closes.length).toBe(1) // 44xx: the provider does not retry

    // A closed connection frees its place.
    first.destroy()
    const fourth = await s.client('ed')
    await synced(fourth)
    await eventually(() => expect(fourth.inv.onHand(bolts)).toBe(9))
    expect(fourth.closes).toEqual([])
  })

  it('[LIMIT-4] an update that would take the document over maxDocumentBytes is refused (document-too-large, 4413); others carry on', async () => {
    const s = await start({ limits: { maxDocumentBytes: 8 * 1024 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    expect(await s.storage.documentSize('acme')).toBeLessThan(4 * 1024)
    const edna = await s.client('edna')
    await synced(edna)
    const ed = await s.client('ed')
    await synced(ed)
    const seqBefore = (await s.storage.loadDocument('acme')).lastSeq

    // One transaction of about 10 KB: 40 items with long names.
    ed.doc.transact(() => {
      for (let i = 0; i < 40; i++) ed.inv.createItem({ sku: `BIG-${i}`, name: `${i} ${'x'.repeat(190)}` })
    })
    await eventually(() => expect(ed.closes.map((c) => c.code)).toEqual([4413]))
    expect(ed.rejected.map((r) => r.code)).toEqual(['document-too-large'])
    expect(ed.closes[0]?.reason).toMatch(/document-too-large/)

    // Nothing of it was stored or relayed; the others write on as before.
    expect((await s.storage.loadDocument('acme')).lastSeq).toBe(seqBefore)
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(edna.inv.onHand(bolts)).toBe(11))
    edna.inv.pick({ item: bolts, location: shelf, quantity: 2 })
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(9))
    await eventually(() => expect(allSaved(admin) && allSaved(edna)).toBe(true))
    for (const c of [admin, edna]) {
      expect(c.closes).toEqual([])
      expect(c.inv.findByCode('BIG-0')).toEqual([])
    }
    const stored = await storedDoc(s)
    expect(stored.getMap('items').size).toBe(1)
    expect(onHandIn(stored, bolts)).toBe(9)
    expect(await s.storage.documentSize('acme')).toBeLessThanOrEqual(8 * 1024)
  })

  it('[LIMIT-5] a client sending faster than updatesPerSecond is throttled, not disconnected, and everything it sent arrives', async () => {
    const s = await start({ limits: { updatesPerSecond: 20, updateBurst: 5 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    const ed = await s.client('ed')
    await synced(ed)
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(10))
    const accepted = () => s.server.relay.metrics.updatesAccepted
    const acceptedBefore = accepted()

    const started = Date.now()
    for (let i = 0; i < 60; i++) ed.inv.receive({ item: bolts, location: shelf, quantity: 1 }) // 60 update messages
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(70), 30_000)
    await eventually(() => expect(allSaved(ed)).toBe(true), 30_000)
    const elapsed = Date.now() - started

    expect(accepted() - acceptedBefore).toBe(60)
    expect(ed.closes).toEqual([])
    expect(ed.rejected).toEqual([])
    expect(ed.provider.wsconnected).toBe(true)
    // Throttled: 55 updates beyond the burst at 20 a second cannot all be taken in under 2.75 s.
    // (A lower bound only: a slow machine makes this longer, never shorter.)
    expect(elapsed).toBeGreaterThanOrEqual(2_000)
    const stored = await storedDoc(s)
    expect(onHandIn(stored, bolts)).toBe(70)
  })
})

describe('document lifecycle', () => {
  it('[STORE-LOG-1] the update log is compacted after compactEveryUpdates appends, and a fresh client still gets everything', async () => {
    const s = await start({ storage: 'sqlite', limits: { compactEveryUpdates: 5 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    for (let i = 0; i < 12; i++) {
      admin.inv.pick({ item: bolts, location: shelf, quantity: 1 })
      await eventually(() => expect(allSaved(admin)).toBe(true)) // one stored update each
    }
    const stored = await s.storage.loadDocument('acme')
    expect(stored.lastSeq).toBeGreaterThanOrEqual(15)
    expect(stored.state).not.toBeNull()
    expect(stored.compactedThrough).toBeGreaterThan(0)
    expect(stored.updates.length).toBeLessThan(5)
    expect(stored.updates.length).toBe(stored.lastSeq - stored.compactedThrough)
    expect(onHandIn(await storedDoc(s), bolts)).toBe(-2)

    const fresh = await s.client('vic')
    await synced(fresh)
    await eventually(() => expect(fresh.inv.onHand(bolts)).toBe(-2))
    expect(fresh.inv.movementsOf(bolts).length).toBe(13)
  })

  it('[STORE-LOG-2] compaction keeps what another writer appended to the store beside this server; the document is compacted only once the log holds an eighth of the state', async () => {
    const s = await start({ storage: 'sqlite', limits: { compactEveryUpdates: 3 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    // Something else appends to the same document (an operator's tool, a second instance without
    // Redis): the server never sees it in memory.
    const outside = new Y.Doc()
    outside.getMap('scratch').set('note', 'appended beside the server')
    await s.storage.appendUpdate('acme', Y.encodeStateAsUpdate(outside))
    for (let i = 0; i < 8; i++) {
      admin.inv.pick({ item: bolts, location: shelf, quantity: 1 })
      await eventually(() => expect(allSaved(admin)).toBe(true))
    }
    const stored = await s.storage.loadDocument('acme')
    expect(stored.compactedThrough).toBeGreaterThan(0)
    const doc = await storedDoc(s)
    expect(doc.getMap('scratch').get('note')).toBe('appended beside the server')
    expect(onHandIn(doc, bolts)).toBe(2)
    // The log after the last compaction is smaller than an eighth of the state, or shorter than 3 appends.
    const log = stored.updates.reduce((n, u) => n + u.length, 0)
    expect(stored.updates.length < 3 || log * 8 < (stored.state?.length ?? 0)).toBe(true)
  })

  it('[IDLE-1] a document with no connection is unloaded after idleUnloadMs, and a later client loads it again with everything', async () => {
    const s = await start({ storage: 'sqlite', limits: { idleUnloadMs: 200 } })
    const { admin, shelf, bolts } = await seedInventory(s)
    admin.inv.pick({ item: bolts, location: shelf, quantity: 4 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    expect(s.server.relay.documentCount).toBe(1)
    admin.destroy()
    await eventually(() => expect(s.server.relay.documentCount).toBe(0))
    // Unloading compacted the log.
    const stored = await s.storage.loadDocument('acme')
    expect(stored.updates.length).toBe(0)
    expect(stored.state).not.toBeNull()

    const later = await s.client('edna')
    await synced(later)
    expect(s.server.relay.documentCount).toBe(1)
    await eventually(() => expect(later.inv.onHand(bolts)).toBe(6))
    expect(later.inv.listLocations().map((l) => l.name)).toEqual(['Shelf'])
    later.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(later)).toBe(true))

    // A REST read loads a document too, and lets it go again.
    later.destroy()
    await eventually(() => expect(s.server.relay.documentCount).toBe(0))
    const res = await fetch(`${s.server.url}/api/tenants/acme/items`, { headers: { authorization: `Bearer ${await s.token('vic')}` } })
    expect(((await res.json()) as { items: Array<{ onHand: number }> }).items.map((i) => i.onHand)).toEqual([7])
    await eventually(() => expect(s.server.relay.documentCount).toBe(0))
  })

  it('[IDLE-2] a document whose only connection left while it was loading is still unloaded', async () => {
    let releaseLoad = () => {}
    let gate: Promise<void> = Promise.resolve()
    const loads: string[] = []
    const s = await start({
      limits: { idleUnloadMs: 100 },
      wrapHooks: (hooks: RelayHooks): RelayHooks => ({
        ...hooks,
        load: async (tenant) => {
          loads.push(tenant)
          await gate
          return hooks.load(tenant)
        },
      }),
    })
    gate = new Promise<void>((resolve) => (releaseLoad = resolve))
    const ed = await s.client('ed')
    await eventually(() => expect(loads).toEqual(['acme']))
    ed.destroy()
    await eventually(() => expect(s.server.relay.connectionCount).toBe(0))
    releaseLoad()
    await eventually(() => expect(s.server.relay.documentCount).toBe(0))
    const edna = await s.client('edna')
    await synced(edna)
    expect(s.server.relay.documentCount).toBe(1)
  })
})

