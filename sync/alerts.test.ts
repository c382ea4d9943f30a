import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ALERT_SEVERITY, deriveAllConditions, itemConditions, predictAlerts, readAlertMirror, skuCondition } from './alerts.js'
import type { AlertCondition } from './alerts.js'
import { seededRandom } from './ids.js'
import { Inventory } from './inventory.js'
import { ROOT } from './schema.js'

const setup = () => {
  const doc = new Y.Doc()
  const inv = new Inventory(doc, { userId: 'alice', random: seededRandom(7) })
  const shelf = inv.createLocation({ name: 'Shelf A' })
  const back = inv.createLocation({ name: 'Back room' })
  const bolts = inv.createItem({ sku: 'BOLT-10', name: 'Bolt M10', reorderPoint: 5 })
  return { doc, inv, shelf, back, bolts }
}

const kinds = (conditions: readonly AlertCondition[]) => conditions.map((c) => c.kind).sort()

describe('alert derivation', () => {
  it('[ALERT-1] stock kinds follow the item status: low at or under the reorder point, out at zero, negative below; one at a time', () => {
    const { inv, shelf, bolts } = setup()
    expect(itemConditions(inv.index, bolts)).toEqual([]) // never stocked: a new catalogue entry
    inv.receive({ item: bolts, location: shelf, quantity: 6 })
    expect(itemConditions(inv.index, bolts)).toEqual([])
    inv.pick({ item: bolts, location: shelf, quantity: 1 })
    expect(itemConditions(inv.index, bolts)).toEqual([
      { key: `low_stock:${bolts}`, kind: 'low_stock', severity: 'warning', item: bolts, sku: 'BOLT-10', detail: { name: 'Bolt M10', onHand: 5, reorderPoint: 5 } },
    ])
    inv.pick({ item: bolts, location: shelf, quantity: 5 })
    expect(itemConditions(inv.index, bolts).map((c) => [c.key, c.severity])).toEqual([[`out_of_stock:${bolts}`, 'high']])
    inv.pick({ item: bolts, location: shelf, quantity: 2 })
    expect(itemConditions(inv.index, bolts).map((c) => [c.key, c.severity])).toEqual([[`negative_stock:${bolts}`, 'critical']])
    inv.receive({ item: bolts, location: shelf, quantity: 20 })
    expect(itemConditions(inv.index, bolts)).toEqual([])
    expect(ALERT_SEVERITY).toEqual({
      negative_stock: 'critical', out_of_stock: 'high', low_stock: 'warning', negative_location: 'warning', duplicate_sku: 'warning', archived_with_stock: 'info',
    })
  })

  it('[ALERT-1] an item without a reorder point is low never, out at zero', () => {
    const { inv, shelf } = setup()
    const nuts = inv.createItem({ sku: 'NUT', name: 'Nut' })
    inv.receive({ item: nuts, location: shelf, quantity: 1 })
    expect(itemConditions(inv.index, nuts)).toEqual([])
    inv.pick({ item: nuts, location: shelf, quantity: 1 })
    expect(kinds(itemConditions(inv.index, nuts))).toEqual(['out_of_stock'])
  })

  it('[ALERT-2] a location below zero while the total is not raises negative_location; a negative total raises only negative_stock', () => {
    const { inv, shelf, back, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 10 })
    inv.pick({ item: bolts, location: back, quantity: 2 }) // picked from the wrong place
    expect(itemConditions(inv.index, bolts)).toEqual([
      { key: `negative_location:${bolts}@${back}`, kind: 'negative_location', severity: 'warning', item: bolts, location: back, sku: 'BOLT-10', detail: { name: 'Bolt M10', onHand: -2 } },
    ])
    inv.pick({ item: bolts, location: shelf, quantity: 10 })
    expect(kinds(itemConditions(inv.index, bolts))).toEqual(['negative_stock'])
  })

  it('[ALERT-2] two items not archived with one SKU raise duplicate_sku, keyed by the SKU; archiving one clears it', () => {
    const a = setup()
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a.doc))
    const other = new Inventory(b, { userId: 'bob', random: seededRandom(9) })
    // Offline, each device creates an item with the same SKU (the API refuses it only locally).
    const twinA = a.inv.createItem({ sku: 'WASHER', name: 'Washer' })
    const twinB = other.createItem({ sku: 'WASHER', name: 'Washer (bob)' })
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b))
    const sorted = [twinA, twinB].sort()
    expect(skuCondition(a.inv.index, 'WASHER')).toEqual({
      key: 'duplicate_sku:WASHER', kind: 'duplicate_sku', severity: 'warning', item: sorted[0], sku: 'WASHER', detail: { items: sorted },
    })
    expect(skuCondition(a.inv.index, 'BOLT-10')).toBeNull()
    a.inv.archiveItem(twinB)
    expect(skuCondition(a.inv.index, 'WASHER')).toBeNull()
  })

  it('[ALERT-2] an archived item holding stock anywhere raises archived_with_stock and no stock kind', () => {
    const { inv, shelf, back, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 1 })
    inv.archiveItem(bolts)
    expect(itemConditions(inv.index, bolts)).toEqual([
      { key: `archived_with_stock:${bolts}`, kind: 'archived_with_stock', severity: 'info', item: bolts, sku: 'BOLT-10', detail: { name: 'Bolt M10', onHand: 1 } },
    ])
    inv.transfer({ item: bolts, from: shelf, to: back, quantity: 1 })
    inv.pick({ item: bolts, location: back, quantity: 1 })
    expect(itemConditions(inv.index, bolts)).toEqual([])
  })

  it('[ALERT-2] the whole-document derivation covers every item and SKU scope, empty ones included', () => {
    const { inv, shelf, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 3 })
    const all = deriveAllConditions(inv.index)
    expect([...all.keys()].sort()).toEqual([`item:${bolts}`, 'sku:BOLT-10'])
    expect(all.get(`item:${bolts}`)?.map((c) => c.key)).toEqual([`low_stock:${bolts}`])
    expect(all.get('sku:BOLT-10')).toEqual([])
  })
})

describe('alert prediction', () => {
  it('[ALERT-3] a device predicts what the server will open: unconfirmed until mirrored, confirmed after, clearing once the local state no longer implies it', () => {
    const { doc, inv, shelf, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 6 })
    expect(predictAlerts(inv.index)).toEqual([])
    inv.pick({ item: bolts, location: shelf, quantity: 2 })
    const [low] = predictAlerts(inv.index)
    expect(low).toMatchObject({ state: 'unconfirmed', key: `low_stock:${bolts}`, condition: { kind: 'low_stock' } })

    // What the server writes into the document's alerts map.
    const mirrored = { id: 'al_1', kind: 'low_stock', severity: 'warning', item: bolts, sku: 'BOLT-10', openedAt: 1, acknowledged: false, detail: { onHand: 4 } }
    doc.transact(() => doc.getMap(ROOT.alerts).set(`low_stock:${bolts}`, mirrored))
    expect(readAlertMirror(doc).get(`low_stock:${bolts}`)).toEqual(mirrored)
    expect(predictAlerts(inv.index)).toEqual([expect.objectContaining({ state: 'confirmed', alert: mirrored })])

    inv.receive({ item: bolts, location: shelf, quantity: 10 })
    expect(predictAlerts(inv.index)).toEqual([{ state: 'clearing', key: `low_stock:${bolts}`, alert: mirrored }])
  })

  it('[ALERT-3] malformed mirror entries are ignored', () => {
    const { doc } = setup()
    doc.transact(() => {
      doc.getMap(ROOT.alerts).set('a', 'nonsense')
      doc.getMap(ROOT.alerts).set('b', { id: 'al_2', kind: 'unknown', severity: 'warning', item: 'x', sku: 'y', openedAt: 1, acknowledged: false })
    })
    expect(readAlertMirror(doc).size).toBe(0)
  })
})
