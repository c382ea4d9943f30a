/**
 * Stock movements shaped like the ones the Inventory API writes (sync/inventory.ts): the same
 * record fields and kinds in warehouse proportions (picks and receipts most, then transfers as a
 * pair in one transaction, counts against what this device has seen, adjustments with a reason),
 * appended at the end of the ledger in one transaction per edit.
 *
 * The generator writes the records itself instead of calling `Inventory`: the API's own checks and
 * ledger index cost about as much as the relay's whole work per update, and on 2 cores the
 * generator has one core for dozens of devices. The records are the same, so every relay receives
 * (and Quartermaster validates) what a device would send.
 */
import * as Y from 'yjs'
import { newId } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'
import { Inventory } from '../../sync/inventory.js'
import { appendToLedger } from '../../sync/ledger.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'

export interface Catalogue {
  readonly items: readonly string[]
  readonly locations: readonly string[]
  /** Movements the seed wrote (one receipt per item). */
  readonly records: number
}

/** Units every item starts with at the first location, so picks keep stock positive (no alert churn). */
export const SEED_STOCK = 1000

/**
 * A tenant's catalogue, written by `userId` through the Inventory API into `doc`: `items` items
 * at `locations` locations, each item with SEED_STOCK units received at the first location.
 */
export const seedCatalogue = (doc: Y.Doc, userId: string, items: number, locations: number, random: RandomSource): Catalogue => {
  const inv = new Inventory(doc, { userId, random })
  const locs = Array.from({ length: locations }, (_, i) => inv.createLocation({ name: `Aisle ${i + 1}` }) as string)
  const ids: string[] = []
  doc.transact(() => {
    for (let i = 0; i < items; i++) {
      ids.push(inv.createItem({ sku: `SKU-${String(i).padStart(5, '0')}`, name: `Part ${i}`, unit: 'each', reorderPoint: 5, reorderQty: 50, barcode: String(4000000000000 + i) }))
    }
  })
  const first = locs[0] as string
  doc.transact(() => {
    for (const item of ids) inv.receive({ item, location: first, quantity: SEED_STOCK })
  })
  inv.destroy()
  return { items: ids, locations: locs, records: ids.length }
}

export class MovementMaker {
  private readonly ledger: Y.Array<Movement>
  /** What this device has seen of each item@location (its own movements on top of the seed). */
  private readonly seen = new Map<string, number>()
  /** Item most recently moved (for presence). */
  lastItem = ''

  constructor(
    private readonly doc: Y.Doc,
    private readonly userId: string,
    private readonly catalogue: Catalogue,
    private readonly random: RandomSource,
  ) {
    this.ledger = doc.getArray<Movement>(ROOT.movements)
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1))
  }

  private record(kind: Movement['kind'], item: string, location: string, delta: number, extra: Partial<Movement> = {}): Movement {
    const key = `${item}@${location}`
    this.seen.set(key, (this.seen.get(key) ?? (location === this.catalogue.locations[0] ? SEED_STOCK : 0)) + delta)
    return { id: newId('mv', this.random), item, location, delta, kind, by: this.userId, at: Date.now(), ...extra }
  }

  private onHand(item: string, location: string): number {
    return this.seen.get(`${item}@${location}`) ?? (location === this.catalogue.locations[0] ? SEED_STOCK : 0)
  }

  /** Makes one edit (one transaction); returns how many records it wrote. */
  next(origin: unknown): number {
    const item = this.pick(this.catalogue.items)
    const home = this.catalogue.locations[0] as string
    const other = this.pick(this.catalogue.locations.slice(1))
    this.lastItem = item
    const r = this.random()
    let records: Movement[]
    if (r < 0.42) records = [this.record('pick', item, home, -this.int(1, 3))]
    else if (r < 0.67) records = [this.record('receive', item, home, this.int(1, 10))]
    else if (r < 0.79) {
      const transfer = newId('tr', this.random)
      const q = this.int(1, 4)
      records = [this.record('transfer-out', item, home, -q, { transfer }), this.record('transfer-in', item, other, q, { transfer })]
    } else if (r < 0.91) {
      const expected = this.onHand(item, home)
      const counted = Math.max(0, expected + this.int(-2, 2))
      records = [this.record('count', item, home, counted - expected, { counted, expected })]
    } else {
      const delta = this.random() < 0.5 ? -this.int(1, 3) : this.int(1, 3)
      records = [this.record('adjust', item, home, delta, { reason: 'damaged' })]
    }
    this.doc.transact(() => appendToLedger(this.ledger, records), origin)
    return records.length
  }
}
