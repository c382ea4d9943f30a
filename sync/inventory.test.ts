import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Inventory, InventoryError } from './inventory.js'
import { foldLedger } from './fold.js'
import { seededRandom } from './ids.js'
import { LedgerIndex } from './ledger-index.js'
import { baselineKey } from './schema.js'
import { fork, pull, syncAll } from '../test/support/replicas.js'

const setup = (userId = 'alice') => {
  const doc = new Y.Doc()
  const inv = new Inventory(doc, { userId, random: seededRandom(1) })
  const shelf = inv.createLocation({ name: 'Shelf A' })
  const back = inv.createLocation({ name: 'Back room' })
  const bolts = inv.createItem({ sku: 'BOLT-10', name: 'Bolt M10', reorderPoint: 5 })
  return { doc, inv, shelf, back, bolts }
}

const device = (doc: Y.Doc, userId: string, seed: number) => {
  const copy = fork(doc)
  return { doc: copy, inv: new Inventory(copy, { userId, random: seededRandom(seed) }) }
}

describe('ledger', () => {
  it('[LEDGER-1] on-hand is the baseline plus the sum of movement deltas', () => {
    const { doc, inv, shelf, back, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 10 })
    inv.pick({ item: bolts, location: shelf, quantity: 3 })
    inv.receive({ item: bolts, location: back, quantity: 4 })
    expect(inv.onHand(bolts, shelf)).toBe(7)
    expect(inv.onHand(bolts)).toBe(11)
    doc.transact(() => doc.getMap('baselines').set(baselineKey(bolts, shelf), 100))
    expect(inv.onHand(bolts, shelf)).toBe(107)
    expect(inv.item(bolts)?.byLocation).toEqual({ [shelf]: 107, [back]: 4 })
  })

  it('[LEDGER-2] a Y.Map counter loses one of two concurrent decrements; the ledger keeps both', () => {
    // The naive approach: the quantity is a number in a map that each device overwrites.
    const naive = new Y.Doc()
    naive.getMap('stock').set('bolts', 10)
    const a = fork(naive)
    const b = fork(naive)
    a.getMap('stock').set('bolts', (a.getMap('stock').get('bolts') as number) - 1)
    b.getMap('stock').set('bolts', (b.getMap('stock').get('bolts') as number) - 1)
    syncAll(a, b)
    expect(a.getMap('stock').get('bolts')).toBe(9) // one pick is lost

    const { doc, inv, shelf, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 10 })
    const p1 = device(doc, 'picker1', 2)
    const p2 = device(doc, 'picker2', 3)
    p1.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    p2.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    syncAll(doc, p1.doc, p2.doc)
    for (const i of [inv, p1.inv, p2.inv]) expect(i.onHand(bolts, shelf)).toBe(8)
  })

  it('[LEDGER-3] delivering the same update twice applies it once', () => {
    const { doc, inv, shelf, bolts } = setup()
    const other = fork(doc)
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    inv.receive({ item: bolts, location: shelf, quantity: 5 })
    const otherInv = new Inventory(other, { userId: 'bob' })
    for (const u of [...updates, ...updates, ...updates]) Y.applyUpdate(other, u)
    expect(otherInv.onHand(bolts, shelf)).toBe(5)
    expect(otherInv.movementsOf(bolts)).toHaveLength(1)
  })

  it('[LEDGER-4] a count records counted − expected, and movements the counter had not seen stay on top', () => {
    const { doc, inv, shelf, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 8 })
    const counter = device(doc, 'counter', 4)
    const picker = device(doc, 'picker', 5)
    const count = counter.inv.count({ item: bolts, location: shelf, counted: 10 })
    expect(count).toMatchObject({ kind: 'count', counted: 10, expected: 8, delta: 2 })
    picker.inv.pick({ item: bolts, location: shelf, quantity: 3 })
    syncAll(doc, counter.doc, picker.doc)
    for (const i of [inv, counter.inv, picker.inv]) expect(i.onHand(bolts, shelf)).toBe(7)
  })

  it('[LEDGER-5] a transfer writes both legs in one transaction and keeps the total', () => {
    const { doc, inv, shelf, back, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 10 })
    let transactions = 0
    doc.on('afterTransaction', () => transactions++)
    const [out, inn] = inv.transfer({ item: bolts, from: shelf, to: back, quantity: 4 })
    expect(transactions).toBe(1)
    expect(out.transfer).toBe(inn.transfer)
    expect(inv.onHand(bolts, shelf)).toBe(6)
    expect(inv.onHand(bolts, back)).toBe(4)
    expect(inv.onHand(bolts)).toBe(10)
  })

  it('[LEDGER-6] stock may go negative after a merge, and the status says so', () => {
    const { doc, inv, shelf, bolts } = setup()
    inv.receive({ item: bolts, location: shelf, quantity: 1 })
    const a = device(doc, 'a', 6)
    const b = device(doc, 'b', 7)
    a.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    b.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    syncAll(doc, a.doc, b.doc)
    expect(inv.onHand(bolts)).toBe(-1)
    expect(inv.status(bolts)).toBe('negative')
    expect(inv.totals().byStatus.negative).toBe(1)
  })

  it('[STATUS-1] ok above the reorder point, low at or under it, out at zero, negative below', () => {
    const { inv, shelf, bolts } = setup()
    expect(inv.status(bolts)).toBe('out')
    inv.receive({ item: bolts, location: shelf, quantity: 6 })
    expect(inv.status(bolts)).toBe('ok')
    inv.pick({ item: bolts, location: shelf, quantity: 1 })
    expect(inv.status(bolts)).toBe('low')
    inv.updateItem(bolts, { reorderPoint: 2 })
    expect(inv.status(bolts)).toBe('ok')
    inv.pick({ item: bolts, location: shelf, quantity: 5 })
    expect(inv.status(bolts)).toBe('out')
    expect(inv.totals()).toMatchObject({ items: 1, units: 0, byStatus: { ok: 0, low: 0, out: 1, negative: 0 } })
    inv.archiveItem(bolts)
    expect(inv.totals()).toMatchObject({ items: 0, archived: 1, byStatus: { out: 0 } })
  })

  it('[LEDGER-7] undo reverses one of one\'s own movements with a new movement, once', () => {
    const { doc, inv, shelf, back, bolts } = setup()
    const r = inv.receive({ item: bolts, location: shelf, quantity: 10 })
    inv.undo(r.id)
    expect(inv.onHand(bolts)).toBe(0)
    expect(() => inv.undo(r.id)).toThrow(/already undone/)
    const [out] = inv.transfer({ item: bolts, from: shelf, to: back, quantity: 2 })
    expect(inv.undo(out.id)).toHaveLength(2)
    expect(inv.onHand(bolts, shelf)).toBe(0)
    expect(inv.onHand(bolts, back)).toBe(0)
    const bob = device(doc, 'bob', 9)
    const mine = inv.receive({ item: bolts, location: shelf, quantity: 1 })
    pull(bob.doc, doc)
    expect(() => bob.inv.undo(mine.id)).toThrow(InventoryError)
  })

  it('[LEDGER-8] compaction folds old movements into baselines without changing any on-hand, even beside concurrent offline work', () => {
    let now = 1_000
    const doc = new Y.Doc()
    const inv = new Inventory(doc, { userId: 'alice', now: () => now, random: seededRandom(11) })
    const shelf = inv.createLocation({ name: 'Shelf' })
    const bolts = inv.createItem({ sku: 'B', name: 'Bolt' })
    for (let i = 0; i < 20; i++) inv.receive({ item: bolts, location: shelf, quantity: 1 + (now++ % 3) })
    const offline = device(doc, 'bob', 12)
    offline.inv.pick({ item: bolts, location: shelf, quantity: 5 }) // made concurrently with the fold
    const before = inv.onHand(bolts, shelf)
    const result = foldLedger(doc, 1_015, { source: 'server', reason: 'compaction' })
    expect(result.folded).toHaveLength(14) // at = 1001 … 1014
    expect(inv.onHand(bolts, shelf)).toBe(before)
    expect(inv.movementsOf(bolts)).toHaveLength(6)
    syncAll(doc, offline.doc)
    expect(inv.onHand(bolts, shelf)).toBe(before - 5)
    expect(offline.inv.onHand(bolts, shelf)).toBe(before - 5)
    // The index of a replica that loads the folded document from scratch agrees.
    const fresh = new LedgerIndex(fork(doc))
    expect(fresh.onHand(bolts, shelf)).toBe(before - 5)
  })
})

describe('Inventory API input', () => {
  it('[API-1] refuses bad input with a named error and writes nothing', () => {
    const { doc, inv, shelf, bolts } = setup()
    const before = Y.encodeStateVector(doc)
    const cases: Array<[() => unknown, string]> = [
      [() => inv.receive({ item: bolts, location: shelf, quantity: 0 }), 'invalid-input'],
      [() => inv.receive({ item: bolts, location: shelf, quantity: 1.5 }), 'invalid-input'],
      [() => inv.pick({ item: 'nope', location: shelf, quantity: 1 }), 'unknown-item'],
      [() => inv.pick({ item: bolts, location: 'nope', quantity: 1 }), 'unknown-location'],
      [() => inv.adjust({ item: bolts, location: shelf, delta: 0, reason: 'x' }), 'invalid-input'],
      [() => inv.adjust({ item: bolts, location: shelf, delta: 3, reason: '' }), 'invalid-input'],
      [() => inv.createItem({ sku: 'BOLT-10', name: 'again' }), 'duplicate-sku'],
      [() => inv.createItem({ sku: '', name: 'blank' }), 'invalid-input'],
      [() => inv.createItem({ sku: 'X', name: 'x'.repeat(201) }), 'invalid-input'],
      [() => inv.updateItem(bolts, { reorderPoint: -1 }), 'invalid-input'],
      [() => inv.transfer({ item: bolts, from: shelf, to: shelf, quantity: 1 }), 'invalid-input'],
      [() => inv.count({ item: bolts, location: shelf, counted: -1 }), 'invalid-input'],
    ]
    for (const [fn, code] of cases) {
      let caught: unknown
      try {
        fn()
      } catch (e) {
        caught = e
      }
      expect(caught, String(fn)).toBeInstanceOf(InventoryError)
      expect((caught as InventoryError).code, String(fn)).toBe(code)
    }
    expect(Y.encodeStateVector(doc)).toEqual(before)
  })

  it('[API-2] a read-only inventory refuses writes; a newer schema version refuses writes', () => {
    const { doc, shelf, bolts } = setup()
    const viewer = new Inventory(doc, { userId: 'v', readOnly: true })
    expect(() => viewer.receive({ item: bolts, location: shelf, quantity: 1 })).toThrow(/only read/)
    doc.getMap('meta').set('schemaVersion', 99)
    const editor = new Inventory(doc, { userId: 'e' })
    expect(() => editor.receive({ item: bolts, location: shelf, quantity: 1 })).toThrow(/schema version 99/)
  })

  it('finds items by SKU and barcode', () => {
    const { inv } = setup()
    const id = inv.createItem({ sku: 'NUT-5', name: 'Nut', barcode: '4006381333931' })
    expect(inv.findByCode('4006381333931').map((i) => i.id)).toEqual([id])
    expect(inv.findByCode('NUT-5').map((i) => i.id)).toEqual([id])
    inv.updateItem(id, { barcode: '123' })
    expect(inv.findByCode('4006381333931')).toEqual([])
    expect(inv.findByCode('123').map((i) => i.id)).toEqual([id])
  })
})
