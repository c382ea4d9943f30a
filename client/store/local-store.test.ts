/**
 * The local store through real parts: a server on port 0, y-indexeddb and Dexie over
 * fake-indexeddb, `ws` for the WebSocket, and an online switch held by the test.
 */
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { issueTokens } from '../../server/auth/tokens.js'
import { appendToLedger } from '../../sync/ledger.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { ManualOnline, openStore, signInAs } from '../../test/support/client.js'
import { SECRET, allSaved, eventually, seedInventory, startTestServer, synced } from '../../test/support/server.js'
import type { TestServer } from '../../test/support/server.js'
import { docDbName } from './databases.js'
import type { LocalStore } from './local-store.js'
import type { Session } from './session.js'

let t: TestServer
const stores: LocalStore[] = []
beforeEach(async () => {
  t = await startTestServer()
})
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  await t.stop()
})

const open = async (session: Session, options: Parameters<typeof openStore>[2] = {}): Promise<LocalStore> => {
  const store = await openStore(t, session, options)
  stores.push(store)
  return store
}

const online = (s: LocalStore) => eventually(() => expect(s.status.connection).toBe('online'))

describe('local store', () => {
  it('[CLIENT-1] keeps one document database per tenant and user: two people on one device never share a Y.Doc, and neither is refused', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const ed = await open(await signInAs(t, 'ed'))
    const edna = await open(await signInAs(t, 'edna'))
    expect(docDbName('acme', ed.userId)).not.toBe(docDbName('acme', edna.userId))
    await Promise.all([online(ed), online(edna)])
    await eventually(() => expect(ed.inventory.onHand(bolts)).toBe(10))
    await eventually(() => expect(edna.inventory.onHand(bolts)).toBe(10))
    expect(ed.doc.clientID).not.toBe(edna.doc.clientID)
    ed.pick(bolts, shelf, 1)
    edna.pick(bolts, shelf, 2)
    await eventually(() => expect([ed.status.pending.count, edna.status.pending.count]).toEqual([0, 0]))
    await eventually(() => expect([ed.inventory.onHand(bolts), edna.inventory.onHand(bolts)]).toEqual([7, 7]))
    expect([...ed.status.rejected, ...edna.status.rejected]).toEqual([])
  })

  it('[CLIENT-2] counts changes made offline as waiting, across a restart, until the durable message covers them; then all is saved and the last sync time moves', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const net = new ManualOnline(true)
    const session = await signInAs(t, 'ed')
    const first = await open(session, { online: net })
    await online(first)
    await eventually(() => expect(first.inventory.onHand(bolts)).toBe(10))
    net.set(false)
    expect(first.status.connection).toBe('offline')
    first.pick(bolts, shelf, 1)
    first.receive(bolts, shelf, 5)
    first.adjust(bolts, shelf, -1, 'damaged')
    await eventually(() => expect(first.status.pending.count).toBe(3))
    expect([...first.status.pending.items]).toEqual([bolts])
    await first.close()
    stores.splice(stores.indexOf(first), 1)

    // Reopened with no network: the changes and the count are still there.
    const second = await open(session, { online: net })
    expect(second.inventory.onHand(bolts)).toBe(13)
    await eventually(() => expect(second.status.pending.count).toBe(3))
    const savedBefore = second.status.lastSavedAt
    expect(savedBefore).not.toBeNull()

    net.set(true)
    await online(second)
    await eventually(() => expect(second.status.pending.count).toBe(0))
    expect(second.status.lastSavedAt).toBeGreaterThanOrEqual(savedBefore ?? 0)
    const admin = await t.client('admin')
    await synced(admin)
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(13))
  })

  it('[CLIENT-3] keeps what the server refused, with its reasons, for the UI', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const ed = await open(await signInAs(t, 'ed'))
    await online(ed)
    await eventually(() => expect(ed.inventory.onHand(bolts)).toBe(10))
    // A movement written in someone else's name (the API would not): the server undoes it and says why.
    const forged: Movement = { id: 'mv_forged0000000000000', item: bolts, location: shelf, delta: -3, kind: 'pick', by: t.users.admin?.id ?? '', at: Date.now() }
    ed.doc.transact(() => appendToLedger(ed.doc.getArray<Movement>(ROOT.movements), [forged]), { source: 'local', userId: ed.userId })
    await eventually(() => expect(ed.status.rejected.map((r) => r.code)).toEqual(['author-mismatch']))
    expect(ed.status.rejected[0]?.path).toBe('movements/mv_forged0000000000000')
    await eventually(() => expect(ed.inventory.onHand(bolts)).toBe(10))
    await eventually(() => expect(ed.status.pending.count).toBe(0)) // refused is still "saved"
    await ed.dismissRejected()
    await eventually(() => expect(ed.status.rejected).toEqual([]))
  })

  it('[CLIENT-4] reconnects after the server closes with 4440 (token expired) by refreshing first, and keeps the new session on the device', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const session = await signInAs(t, 'ed')
    const user = t.users.ed
    if (!user) throw new Error('no ed')
    const short = await issueTokens(SECRET, user, Date.now(), { accessSeconds: 2, refreshSeconds: 3600 })
    // The device's clock runs a minute behind: it thinks the token is good for a while yet.
    const ed = await open({ ...session, token: short.token, refreshToken: short.refreshToken, expiresAt: short.expiresAt }, {
      device: 'skewed',
      now: () => Date.now() - 60_000,
    })
    await online(ed)
    const closes: number[] = []
    ed.provider?.on('connection-close', (event) => {
      if (event) closes.push(event.code)
    })
    await eventually(() => expect(closes).toContain(4440), 10_000)
    await online(ed)
    expect(ed.token).not.toBe(short.token)
    const { DeviceDb } = await import('./databases.js')
    const device = new DeviceDb('qm-device-skewed')
    expect((await device.sessions.get('current'))?.session.token).toBe(ed.token)
    device.close()
    ed.pick(bolts, shelf, 4)
    await eventually(() => expect(ed.status.pending.count).toBe(0))
    const admin = await t.client('admin')
    await synced(admin)
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(6))
    expect(ed.status.problem).toBeNull()
  })

  it('[CLIENT-8] refreshes the access token before it expires and saves the new session for the next offline start', async () => {
    const session = await signInAs(t, 'ed')
    const user = t.users.ed
    if (!user) throw new Error('no ed')
    const short = await issueTokens(SECRET, user, Date.now(), { accessSeconds: 7, refreshSeconds: 3600 })
    const { DeviceDb } = await import('./databases.js')
    const device = new DeviceDb('qm-device-timer')
    const ed = await open({ ...session, token: short.token, refreshToken: short.refreshToken, expiresAt: short.expiresAt }, { deviceDb: device })
    await online(ed)
    await eventually(() => expect(ed.token).not.toBe(short.token), 10_000)
    expect(Date.now()).toBeLessThan(short.expiresAt)
    const kept = await device.sessions.get('current')
    expect(kept?.session.token).toBe(ed.token)
    expect(kept?.session.expiresAt).toBeGreaterThan(short.expiresAt)
    device.close()
  })

  it('[CLIENT-5] keeps two tabs of one user in step with no network (their own BroadcastChannel), and both see the shared waiting count', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const session = await signInAs(t, 'ed')
    const warm = await open(session)
    await eventually(() => expect(warm.inventory.onHand(bolts)).toBe(10))
    await warm.close()
    stores.splice(stores.indexOf(warm), 1)
    const net = new ManualOnline(false)
    const tabA = await open(session, { online: net })
    const tabB = await open(session, { online: net })
    tabA.pick(bolts, shelf, 2)
    await eventually(() => expect(tabB.inventory.onHand(bolts)).toBe(8))
    tabB.receive(bolts, shelf, 7)
    await eventually(() => expect(tabA.inventory.onHand(bolts)).toBe(15))
    await eventually(() => expect([tabA.status.pending.count, tabB.status.pending.count]).toEqual([2, 2]))
    net.set(true)
    await eventually(() => expect([tabA.status.pending.count, tabB.status.pending.count]).toEqual([0, 0]))
    expect([...tabA.status.rejected, ...tabB.status.rejected]).toEqual([])
  })

  it('[CLIENT-6] a new device downloads a tenant with progress before it syncs, then reads and writes it', async () => {
    const { admin, shelf } = await seedInventory(t)
    for (let i = 0; i < 300; i++) admin.inv.createItem({ sku: `SKU-${i}`, name: `Item ${i}` })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const session = await signInAs(t, 'ed')
    const { LocalStore } = await import('./local-store.js')
    const { DeviceDb } = await import('./databases.js')
    const WS = (await import('ws')).default
    const store = new LocalStore({ serverUrl: t.server.url, session, deviceDb: new DeviceDb('qm-device-new'), WebSocketPolyfill: WS as unknown as typeof WebSocket })
    stores.push(store)
    const seen: Array<{ loaded: number; total: number | null }> = []
    store.subscribe(() => {
      const d = store.status.download
      if (d) seen.push(d)
    })
    await store.start()
    const last = seen[seen.length - 1]
    expect(last?.total).toBeGreaterThan(10_000)
    expect(last?.loaded).toBe(last?.total)
    expect(store.list.size).toBe(301)
    const item = store.list.all()[0]
    if (!item) throw new Error('no rows')
    store.receive(item.id, shelf, 3)
    await eventually(() => expect(store.status.pending.count).toBe(0))
    expect(Y.encodeStateVector(store.doc).byteLength).toBeGreaterThan(0)
  })

  it('[CLIENT-7] the list shows the rows kept from the last session before the document loads, and patches only changed rows after', async () => {
    const { shelf, bolts } = await seedInventory(t)
    const session = await signInAs(t, 'ed')
    const net = new ManualOnline(true)
    const first = await open(session, { online: net })
    await eventually(() => expect(first.list.row(bolts)?.onHand).toBe(10))
    net.set(false)
    first.pick(bolts, shelf, 3)
    expect(first.list.row(bolts)).toMatchObject({ onHand: 7, status: 'ok' })
    expect(first.list.filter({ query: '', status: 'all', location: 'all' }).find((r) => r.id === bolts)?.onHand).toBe(7)
    await new Promise((r) => setTimeout(r, 1300)) // the list is kept 1 s after a change
    await first.close()
    stores.splice(stores.indexOf(first), 1)

    const { LocalStore } = await import('./local-store.js')
    const { DeviceDb } = await import('./databases.js')
    const WS = (await import('ws')).default
    const second = new LocalStore({ serverUrl: t.server.url, session, deviceDb: new DeviceDb('qm-device-phone'), online: net, WebSocketPolyfill: WS as unknown as typeof WebSocket })
    stores.push(second)
    let cachedRow: unknown = null
    const unsubscribe = second.list.subscribe(() => {
      if (second.list.source === 'cache') cachedRow = second.list.row(bolts)
    })
    await second.start()
    unsubscribe()
    expect(cachedRow).toMatchObject({ sku: 'BOLT', onHand: 7 })
    expect(second.list.source).toBe('live')
    expect(second.list.filter({ query: 'bol', status: 'all', location: 'all' }).map((r) => r.id)).toEqual([bolts])
    expect(second.list.filter({ query: '', status: 'all', location: shelf }).map((r) => r.id)).toEqual([bolts])
    expect(second.list.filter({ query: '', status: 'low', location: 'all' })).toEqual([])
  })
})
