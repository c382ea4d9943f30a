import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from './ids.js'
import { Inventory } from './inventory.js'
import { applyRestore, isEmptyPlan, planRestore, viewOf, viewOfState } from './restore.js'
import { fork, syncAll } from '../test/support/replicas.js'

const restoreOrigin = { source: 'server', reason: 'restore' } as const

describe('restore as a forward change', () => {
  it('[RESTORE-1] the live document equals the snapshot afterwards: fields, archive flags, on-hand; new items archived at zero', () => {
    const doc = new Y.Doc()
    const inv = new Inventory(doc, { userId: 'admin', random: seededRandom(1) })
    const a = inv.createLocation({ name: 'A' })
    const bolts = inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 5 })
    const nuts = inv.createItem({ sku: 'NUT', name: 'Nut' })
    inv.receive({ item: bolts, location: a, quantity: 10 })
    inv.receive({ item: nuts, location: a, quantity: 4 })
    const snapshot = Y.encodeStateAsUpdate(doc)

    // A bad afternoon: a rename, an archive, a wild scanner, a new item and a new location.
    inv.updateItem(bolts, { name: 'Bolt (wrong)', reorderPoint: 50, barcode: '999' })
    inv.archiveItem(nuts)
    inv.pick({ item: bolts, location: a, quantity: 9 })
    const b = inv.createLocation({ name: 'B' })
    const junk = inv.createItem({ sku: 'JUNK', name: 'Junk' })
    inv.receive({ item: junk, location: b, quantity: 7 })
    inv.transfer({ item: bolts, from: a, to: b, quantity: 1 })

    const target = viewOfState(snapshot)
    const plan = planRestore(viewOf(doc, inv.index), target)
    expect(plan.itemsAddedSince).toEqual([junk])
    expect(plan.locationsAddedSince).toEqual([b])
    applyRestore(doc, target, plan, { by: 'admin', reason: 'restore of snap-1', at: 5, origin: restoreOrigin })

    expect(inv.item(bolts)).toMatchObject({ name: 'Bolt', reorderPoint: 5, barcode: undefined, onHand: 10, byLocation: { [a]: 10, [b]: 0 } })
    expect(inv.item(nuts)).toMatchObject({ archived: false, onHand: 4 })
    expect(inv.item(junk)).toMatchObject({ archived: true, onHand: 0 })
    expect(inv.location(b)?.archived).toBe(true)
    expect(isEmptyPlan(planRestore(viewOf(doc, inv.index), target))).toBe(true)
    // The ledger kept everything that happened, and says what the restore did.
    expect(inv.movementsOf(bolts).filter((m) => m.kind === 'restore').map((m) => m.delta).sort((x, y) => x - y)).toEqual([-1, 10]) // A 0 → 10, B 1 → 0
  })

  it('[RESTORE-2] offline movements made during a restore apply on top; nothing restored away comes back from an old copy', () => {
    const server = new Y.Doc()
    const admin = new Inventory(server, { userId: 'admin', random: seededRandom(2) })
    const a = admin.createLocation({ name: 'A' })
    const bolts = admin.createItem({ sku: 'BOLT', name: 'Bolt' })
    admin.receive({ item: bolts, location: a, quantity: 10 })
    const snapshot = Y.encodeStateAsUpdate(server)
    admin.pick({ item: bolts, location: a, quantity: 8 })
    admin.updateItem(bolts, { name: 'Renamed' })
    const later = admin.createItem({ sku: 'LATER', name: 'Later' })

    const online = fork(server)
    const offline = fork(server) // took its copy before the restore, then lost the network
    const offlineInv = new Inventory(offline, { userId: 'picker', random: seededRandom(3) })
    offlineInv.pick({ item: bolts, location: a, quantity: 1 })
    offlineInv.pick({ item: bolts, location: a, quantity: 1 })

    const target = viewOfState(snapshot)
    applyRestore(server, target, planRestore(viewOf(server, admin.index), target), { by: 'admin', reason: 'undo the bad afternoon', at: 9, origin: restoreOrigin })
    syncAll(server, online)
    const onlineInv = new Inventory(online, { userId: 'x' })
    expect(onlineInv.onHand(bolts)).toBe(10)

    syncAll(server, online, offline)
    for (const inv of [admin, onlineInv, offlineInv]) {
      expect(inv.onHand(bolts)).toBe(8) // the snapshot's 10, plus exactly the two offline picks
      expect(inv.item(bolts)?.name).toBe('Bolt')
      expect(inv.item(later)?.archived).toBe(true)
    }
    // A device that reloads its stale pre-restore copy (as from IndexedDB) and syncs changes nothing back.
    const stale = new Y.Doc()
    Y.applyUpdate(stale, Y.encodeStateAsUpdate(offline, Y.encodeStateVector(new Y.Doc())))
    syncAll(server, stale)
    expect(admin.onHand(bolts)).toBe(8)
    expect(admin.item(bolts)?.name).toBe('Bolt')
  })

  it('[RESTORE-3] restoring the snapshot taken right before a restore undoes it', () => {
    const doc = new Y.Doc()
    const inv = new Inventory(doc, { userId: 'admin', random: seededRandom(4) })
    const a = inv.createLocation({ name: 'A' })
    const bolts = inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    inv.receive({ item: bolts, location: a, quantity: 3 })
    const old = Y.encodeStateAsUpdate(doc)
    inv.receive({ item: bolts, location: a, quantity: 30 })
    inv.updateItem(bolts, { name: 'Bolt v2' })
    const before = Y.encodeStateAsUpdate(doc)
    const restoreTo = (state: Uint8Array) => {
      const target = viewOfState(state)
      applyRestore(doc, target, planRestore(viewOf(doc, inv.index), target), { by: 'admin', reason: 'r', at: 1, origin: restoreOrigin })
    }
    restoreTo(old)
    expect(inv.item(bolts)).toMatchObject({ name: 'Bolt', onHand: 3 })
    restoreTo(before)
    expect(inv.item(bolts)).toMatchObject({ name: 'Bolt v2', onHand: 33 })
  })
})
