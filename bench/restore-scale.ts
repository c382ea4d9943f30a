/**
 * Restore at warehouse scale: a tenant of 10,000 items at 5 locations, a snapshot, a bad day that
 * changes every quantity and many names, then a restore of the snapshot through SnapshotService
 * (safety snapshot, plan, forward change, stored, audit), timed in parts.
 *
 *   npm run bench:restore-scale
 */
import * as Y from 'yjs'
import { seededRandom } from '../sync/ids.js'
import { Inventory } from '../sync/inventory.js'
import { appendToLedger } from '../sync/ledger.js'
import type { Movement } from '../sync/schema.js'
import { planRestore, viewOf, viewOfState } from '../sync/restore.js'
import { OfflineHost } from '../server/documents/offline-host.js'
import { SnapshotService } from '../server/snapshots/service.js'
import { createMemoryStorage } from '../server/storage/memory.js'

const ITEMS = 10_000
const LOCATIONS = 5
const random = seededRandom(42)
const ms = (since: number) => +(performance.now() - since).toFixed(1)

const storage = createMemoryStorage()
await storage.createTenant({ id: 'big', name: 'Big' })
const doc = new Y.Doc()
const inv = new Inventory(doc, { userId: 'admin', random: seededRandom(1) })
let t = performance.now()
const locations = Array.from({ length: LOCATIONS }, (_, i) => inv.createLocation({ name: `Aisle ${i + 1}` }))
const items = Array.from({ length: ITEMS }, (_, i) => inv.createItem({ sku: `SKU-${i}`, name: `Item ${i}`, reorderPoint: 5 }))
/**
 * Movements are appended in one insert, not one transaction each: Yjs merges a client's neighbouring
 * records by concatenating arrays, which is quadratic over tens of thousands of consecutive single
 * appends by one client (a real ledger interleaves many devices; bench/doc-scale builds it so).
 */
let clock = 1
const movement = (item: string, location: string, delta: number, kind: 'receive' | 'pick'): Movement => ({
  id: `mv_bench${String(clock++).padStart(12, '0')}`,
  item,
  location,
  delta,
  kind,
  by: 'admin',
  at: clock,
})
const appendAll = (records: Movement[]) => doc.transact(() => appendToLedger(inv.movements, records))
appendAll(items.flatMap((item) => locations.map((location) => movement(item, location, 1 + Math.floor(random() * 50), 'receive'))))
await storage.appendUpdate('big', Y.encodeStateAsUpdate(doc))
const buildMs = ms(t)

const service = new SnapshotService(storage, new OfflineHost(storage))
t = performance.now()
const snapshot = await service.create('big', { trigger: 'manual', by: 'admin', reason: 'before the bad day' })
const snapshotMs = ms(t)

// The bad day: every item picked at every location, one in ten renamed, 500 new items.
const before = Y.encodeStateVector(doc)
appendAll(items.flatMap((item) => locations.map((location) => movement(item, location, -1, 'pick'))))
for (let i = 0; i < ITEMS; i += 10) inv.updateItem(items[i] as string, { name: `Renamed ${i}` })
for (let i = 0; i < 500; i++) inv.receive({ item: inv.createItem({ sku: `JUNK-${i}`, name: 'Junk' }), location: locations[0] as string, quantity: 3 })
await storage.appendUpdate('big', Y.encodeStateAsUpdate(doc, before))

t = performance.now()
const target = viewOfState((await storage.getSnapshot('big', snapshot.id))?.state as Uint8Array)
const plan = planRestore(viewOf(doc, inv.index), target)
const planMs = ms(t)

t = performance.now()
const result = await service.restore('big', snapshot.id, 'admin')
const restoreMs = ms(t)

// Check: the stored document now equals the snapshot in every on-hand.
const stored = await storage.loadDocument('big')
const check = new Y.Doc()
if (stored.state) Y.applyUpdate(check, stored.state)
for (const u of stored.updates) Y.applyUpdate(check, u)
const after = viewOf(check)
const mismatches = planRestore(after, target).quantities.length
if (mismatches !== 0) {
  console.error(`NOT RESTORED: ${mismatches} quantities differ from the snapshot`)
  process.exitCode = 1
}

const figures = {
  items: ITEMS,
  locations: LOCATIONS,
  buildMs,
  snapshotMs,
  snapshotBytes: snapshot.byteSize,
  planMs,
  plannedQuantities: plan.quantities.length,
  plannedFieldChanges: plan.itemFields.length,
  itemsArchived: plan.itemsAddedSince.length,
  restoreMs,
  movementsWritten: result.movementsWritten,
  mismatchesAfter: mismatches,
}
console.table(figures)
console.log(JSON.stringify({ bench: 'restore-scale', node: process.version, date: new Date().toISOString(), figures }))
