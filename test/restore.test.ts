/**
 * Snapshots and restore through real parts: a server on port 0, stock providers, REST, and
 * y-indexeddb over fake-indexeddb for devices that keep their copy across reloads.
 */
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import { allSaved, eventually, startTestServer, synced } from './support/server.js'
import type { TestClient, TestServer } from './support/server.js'

let t: TestServer
beforeEach(async () => {
  t = await startTestServer()
})
afterEach(async () => {
  await t.stop()
})

const api = async (username: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${t.server.url}/api/tenants/acme${path}`, {
    method,
    headers: { authorization: `Bearer ${await t.token(username)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/** A device that keeps its document in (fake) IndexedDB under `name`. */
const persistentDevice = async (username: string, name: string): Promise<{ client: TestClient; idb: IndexeddbPersistence }> => {
  const doc = new Y.Doc()
  const idb = new IndexeddbPersistence(name, doc)
  await idb.whenSynced
  const client = await t.client(username, { doc })
  return { client, idb }
}

const onHands = (c: TestClient, items: string[]) => items.map((i) => c.inv.onHand(i))

describe('snapshots and restore', () => {
  it('[RESTORE-4] connected devices equal the snapshot at once; an offline device keeps its movements on top; a stale IndexedDB copy resurrects nothing', async () => {
    const admin = await t.client('admin')
    await synced(admin)
    const shelf = admin.inv.createLocation({ name: 'Shelf' })
    const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 5 })
    const nuts = admin.inv.createItem({ sku: 'NUT', name: 'Nut' })
    admin.inv.receive({ item: bolts, location: shelf, quantity: 20 })
    admin.inv.receive({ item: nuts, location: shelf, quantity: 8 })
    await eventually(() => expect(allSaved(admin)).toBe(true))

    const snap = await api('admin', 'POST', '/snapshots', { reason: 'before the stocktake' })
    expect(snap.status).toBe(201)
    expect(snap.json).toMatchObject({ trigger: 'manual', itemCount: 2, totalUnits: 28, reason: 'before the stocktake' })
    const snapshotId = snap.json.id as string

    // A bad afternoon, by an editor.
    const ed = await t.client('ed')
    const edna = await t.client('edna')
    await Promise.all([synced(ed), synced(edna)])
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(20))
    ed.inv.updateItem(bolts, { name: 'Bolt (scanner gone wild)' })
    ed.inv.pick({ item: bolts, location: shelf, quantity: 15 })
    const junk = ed.inv.createItem({ sku: 'JUNK', name: 'Junk' })
    ed.inv.receive({ item: junk, location: shelf, quantity: 99 })
    await eventually(() => expect(allSaved(ed)).toBe(true))

    // Two devices keep copies in IndexedDB: the picker goes offline and keeps working; the other is closed.
    const picker = await persistentDevice('edna', 'qm-acme-picker')
    const stale = await persistentDevice('ed', 'qm-acme-stale')
    await Promise.all([synced(picker.client), synced(stale.client)])
    await eventually(() => expect(stale.client.inv.onHand(junk)).toBe(99))
    stale.client.destroy()
    await stale.idb.destroy().catch(() => undefined) // closes the database handle; the data stays
    picker.client.provider.disconnect()
    picker.client.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    picker.client.inv.pick({ item: nuts, location: shelf, quantity: 2 })

    // Preview, then restore.
    const diff = await api('admin', 'GET', `/snapshots/${snapshotId}/diff`)
    expect(diff.status).toBe(200)
    expect(diff.json.itemsAdded).toEqual([{ id: junk, sku: 'JUNK', name: 'Junk' }])
    expect(diff.json.fieldsChanged).toEqual([expect.objectContaining({ field: 'name', now: 'Bolt (scanner gone wild)', snapshot: 'Bolt' })])
    const restored = await api('admin', 'POST', `/snapshots/${snapshotId}/restore`)
    expect(restored.status).toBe(200)
    expect(restored.json.preRestore).toMatchObject({ trigger: 'pre-restore' })

    // Every connected device equals the snapshot.
    await eventually(() => {
      for (const c of [admin, ed, edna]) {
        expect(onHands(c, [bolts, nuts, junk])).toEqual([20, 8, 0])
        expect(c.inv.item(bolts)?.name).toBe('Bolt')
        expect(c.inv.item(junk)?.archived).toBe(true)
      }
    })

    // The offline picker reconnects: the snapshot plus exactly its two picks, everywhere.
    picker.client.provider.connect()
    await eventually(() => {
      for (const c of [admin, ed, edna, picker.client]) expect(onHands(c, [bolts, nuts, junk])).toEqual([19, 6, 0])
    })

    // The stale device reloads its pre-restore copy from IndexedDB and syncs: nothing comes back.
    const reloaded = await persistentDevice('ed', 'qm-acme-stale')
    expect(reloaded.client.inv.item(junk)?.archived).toBe(false) // its copy is from before the restore
    await synced(reloaded.client)
    await eventually(() => expect(onHands(reloaded.client, [bolts, nuts, junk])).toEqual([19, 6, 0]))
    await new Promise((r) => setTimeout(r, 200))
    for (const c of [admin, ed, reloaded.client]) {
      expect(onHands(c, [bolts, nuts, junk])).toEqual([19, 6, 0])
      expect(c.inv.item(bolts)?.name).toBe('Bolt')
      expect(c.inv.item(junk)?.archived).toBe(true)
    }

    // The audit log says who restored what.
    const audit = await api('admin', 'GET', '/audit')
    expect(audit.json.entries).toEqual([
      expect.objectContaining({ action: 'restore', actor: t.users['admin']?.id, detail: expect.objectContaining({ snapshot: snapshotId, itemsArchived: 1 }) }),
    ])
    await picker.idb.destroy().catch(() => undefined)
    await reloaded.idb.destroy().catch(() => undefined)
  })

  it('[RESTORE-3] restoring the safety snapshot taken before a restore undoes it', async () => {
    const admin = await t.client('admin')
    await synced(admin)
    const shelf = admin.inv.createLocation({ name: 'Shelf' })
    const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    admin.inv.receive({ item: bolts, location: shelf, quantity: 5 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const first = (await api('admin', 'POST', '/snapshots')).json.id as string
    admin.inv.receive({ item: bolts, location: shelf, quantity: 40 })
    admin.inv.updateItem(bolts, { name: 'Bolt M10' })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const r1 = await api('admin', 'POST', `/snapshots/${first}/restore`)
    await eventually(() => expect(admin.inv.item(bolts)).toMatchObject({ onHand: 5, name: 'Bolt' }))
    const safety = (r1.json.preRestore as { id: string }).id
    await api('admin', 'POST', `/snapshots/${safety}/restore`)
    await eventually(() => expect(admin.inv.item(bolts)).toMatchObject({ onHand: 45, name: 'Bolt M10' }))
    const list = await api('admin', 'GET', '/snapshots')
    expect((list.json.snapshots as Array<{ trigger: string }>).map((s) => s.trigger)).toEqual(['pre-restore', 'pre-restore', 'manual'])
  })

  it('[ROLE-2] viewers and editors may list, show and diff snapshots but not create or restore them', async () => {
    const admin = await t.client('admin')
    await synced(admin)
    const shelf = admin.inv.createLocation({ name: 'Shelf' })
    const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    admin.inv.receive({ item: bolts, location: shelf, quantity: 3 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const id = (await api('admin', 'POST', '/snapshots')).json.id as string
    for (const who of ['ed', 'vic']) {
      expect((await api(who, 'POST', '/snapshots')).status).toBe(403)
      expect((await api(who, 'POST', `/snapshots/${id}/restore`)).status).toBe(403)
      expect((await api(who, 'GET', '/snapshots')).status).toBe(200)
      const shown = await api(who, 'GET', `/snapshots/${id}`)
      expect(shown.json.items).toEqual([expect.objectContaining({ id: bolts, sku: 'BOLT', onHand: 3, byLocation: { [shelf]: 3 } })])
      expect((await api(who, 'GET', `/snapshots/${id}/diff`)).status).toBe(200)
      expect((await api(who, 'GET', '/audit')).status).toBe(403)
    }
    expect((await api('admin', 'GET', '/snapshots/sn_nothing')).status).toBe(404)
    expect((await api('admin', 'GET', '/snapshots')).json.snapshots).toHaveLength(1)
  })

  it('[SNAP-1] scheduled snapshots skip unchanged tenants, and retention prunes old ones', async () => {
    const admin = await t.client('admin')
    await synced(admin)
    const shelf = admin.inv.createLocation({ name: 'Shelf' })
    const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    await t.server.scheduler.runOnce()
    await t.server.scheduler.runOnce() // nothing changed: no second snapshot
    expect((await t.storage.listSnapshots('acme', { trigger: 'schedule' })).length).toBe(1)
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    await t.server.scheduler.runOnce()
    expect((await t.storage.listSnapshots('acme', { trigger: 'schedule' })).length).toBe(2)
    expect(await t.storage.listSnapshots('globex')).toEqual([]) // an empty document is not snapshotted
  })
})
