/**
 * The derived index: on-hand per item and location, status, lookups by SKU and barcode, and the
 * movements of each item, kept up to date from each transaction's changes. A read never scans the
 * ledger; a transaction costs time in proportion to what it changed.
 */
import * as Y from 'yjs'
import './yjs-runs.js'
import { SharedValue, collectChanges, isEmptyChangeSet } from './changes.js'
import type { ChangeSet, EntityChange } from './changes.js'
import { ROOT, parseBaselineKey } from './schema.js'
import type { Movement } from './schema.js'
import { stockStatus } from './status.js'
import type { StockStatus } from './status.js'

interface ItemStock {
  readonly byLocation: Map<string, number>
  total: number
  readonly movements: Set<Movement>
}

export interface InventoryCounts {
  /** Items not archived. */
  readonly items: number
  readonly archived: number
  /** Sum of on-hand over every item, archived ones included. */
  readonly units: number
  /** Status counts over items not archived. */
  readonly byStatus: Readonly<Record<StockStatus, number>>
}

export type IndexListener = (changedItems: ReadonlySet<string>, changes: ChangeSet, tr: Y.Transaction) => void

/** Records the index counts: the ledger may briefly hold a malformed record until the server removes it. */
const countable = (r: unknown): r is Movement =>
  typeof r === 'object' && r !== null &&
  typeof (r as Movement).item === 'string' &&
  typeof (r as Movement).location === 'string' &&
  Number.isSafeInteger((r as Movement).delta)

/**
 * A multimap that stores a lone value as itself: nearly every movement id maps to one movement, and
 * a Set per id cost 18 MB at 100k movements against 3 MB for plain entries (bench/RESULTS.md).
 */
class CompactMultimap<K, V> {
  private readonly map = new Map<K, V | V[]>()

  add(key: K, value: V): void {
    const existing = this.map.get(key)
    if (existing === undefined) this.map.set(key, value)
    else if (Array.isArray(existing)) existing.push(value)
    else this.map.set(key, [existing, value])
  }

  remove(key: K, value: V): void {
    const existing = this.map.get(key)
    if (existing === value) this.map.delete(key)
    else if (Array.isArray(existing)) {
      const rest = existing.filter((v) => v !== value)
      if (rest.length === 0) this.map.delete(key)
      else this.map.set(key, rest.length === 1 ? (rest[0] as V) : rest)
    }
  }

  get(key: K): readonly V[] {
    const existing = this.map.get(key)
    return existing === undefined ? [] : Array.isArray(existing) ? [...existing] : [existing]
  }
}

const addTo = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
  const set = map.get(key)
  if (set) set.add(value)
  else map.set(key, new Set([value]))
}
const removeFrom = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
  const set = map.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}

export class LedgerIndex {
  private readonly stock = new Map<string, ItemStock>()
  private readonly byId = new CompactMultimap<string, Movement>()
  private readonly undos = new CompactMultimap<string, Movement>()
  private readonly bySku = new Map<string, Set<string>>()
  private readonly byBarcode = new Map<string, Set<string>>()
  private readonly statusOf = new Map<string, StockStatus>()
  private readonly statusCounts: Record<StockStatus, number> = { ok: 0, low: 0, out: 0, negative: 0 }
  private readonly archivedIds = new Set<string>()
  private archivedCount = 0
  private unitsTotal = 0
  private readonly listeners = new Set<IndexListener>()
  private readonly items: Y.Map<Y.Map<unknown>>
  private readonly onTransaction = (tr: Y.Transaction) => {
    const changes = collectChanges(tr)
    if (isEmptyChangeSet(changes)) return
    const touched = this.apply(changes)
    for (const listener of this.listeners) listener(touched, changes, tr)
  }

  constructor(readonly doc: Y.Doc) {
    this.items = doc.getMap(ROOT.items)
    this.rebuild()
    doc.on('afterTransaction', this.onTransaction)
  }

  destroy(): void {
    this.doc.off('afterTransaction', this.onTransaction)
    this.listeners.clear()
  }

  /** Called after each transaction that changed the document, with the items it touched. */
  subscribe(listener: IndexListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  onHand(item: string, location?: string): number {
    const s = this.stock.get(item)
    if (!s) return 0
    return location === undefined ? s.total : (s.byLocation.get(location) ?? 0)
  }

  /** On-hand at each location that has ever held the item (zero entries included). */
  byLocation(item: string): ReadonlyMap<string, number> {
    return this.stock.get(item)?.byLocation ?? new Map()
  }

  status(item: string): StockStatus {
    return this.statusOf.get(item) ?? this.computeStatus(item)
  }

  /** The movements of one item still in the ledger, oldest first. */
  movementsOf(item: string): Movement[] {
    const set = this.stock.get(item)?.movements
    return set ? [...set].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)) : []
  }

  movementsWithId(id: string): readonly Movement[] {
    return this.byId.get(id)
  }

  undoesOf(id: string): readonly Movement[] {
    return this.undos.get(id)
  }

  itemsWithSku(sku: string): readonly string[] {
    return [...(this.bySku.get(sku) ?? [])]
  }

  itemsWithBarcode(barcode: string): readonly string[] {
    return [...(this.byBarcode.get(barcode) ?? [])]
  }

  counts(): InventoryCounts {
    return {
      items: this.statusOf.size - this.archivedCount,
      archived: this.archivedCount,
      units: this.unitsTotal,
      byStatus: { ...this.statusCounts },
    }
  }

  private stockOf(item: string): ItemStock {
    let s = this.stock.get(item)
    if (!s) {
      s = { byLocation: new Map(), total: 0, movements: new Set() }
      this.stock.set(item, s)
    }
    return s
  }

  private add(item: string, location: string, delta: number): void {
    const s = this.stockOf(item)
    s.byLocation.set(location, (s.byLocation.get(location) ?? 0) + delta)
    s.total += delta
    this.unitsTotal += delta
  }

  private addMovement(m: Movement, sign: 1 | -1): void {
    this.add(m.item, m.location, sign * m.delta)
    const s = this.stockOf(m.item)
    if (sign > 0) {
      s.movements.add(m)
      if (typeof m.id === 'string') this.byId.add(m.id, m)
      if (m.kind === 'undo' && typeof m.undoes === 'string') this.undos.add(m.undoes, m)
    } else {
      s.movements.delete(m)
      if (typeof m.id === 'string') this.byId.remove(m.id, m)
      if (m.kind === 'undo' && typeof m.undoes === 'string') this.undos.remove(m.undoes, m)
    }
  }

  private indexFields(id: string, fields: Readonly<Record<string, unknown>>, sign: 1 | -1): void {
    const op = sign > 0 ? addTo : removeFrom
    if (typeof fields.sku === 'string') op(this.bySku, fields.sku, id)
    if (typeof fields.barcode === 'string') op(this.byBarcode, fields.barcode, id)
  }

  private computeStatus(item: string): StockStatus {
    const fields = this.items.get(item)
    const reorderPoint = fields instanceof Y.Map ? fields.get('reorderPoint') : undefined
    return stockStatus(this.onHand(item), typeof reorderPoint === 'number' ? reorderPoint : 0)
  }

  /** Re-derives status and counts of one item after its stock or fields changed. */
  private refresh(item: string): void {
    const old = this.statusOf.get(item)
    const fields = this.items.get(item)
    const wasArchived = old !== undefined && this.archivedIds.has(item)
    if (old !== undefined) {
      if (wasArchived) this.archivedCount--
      else this.statusCounts[old]--
      this.statusOf.delete(item)
      this.archivedIds.delete(item)
    }
    if (!(fields instanceof Y.Map)) return // movements on an item that does not exist (yet)
    const status = this.computeStatus(item)
    this.statusOf.set(item, status)
    if (fields.get('archived') === true) {
      this.archivedIds.add(item)
      this.archivedCount++
    } else {
      this.statusCounts[status]++
    }
  }

  private applyEntity(change: EntityChange, touched: Set<string>): void {
    touched.add(change.id)
    const entry = change.entry
    if (entry) {
      const fieldsOf = (v: unknown) => (v instanceof SharedValue && v.fields ? v.fields : {})
      if (entry.before.exists) this.indexFields(change.id, fieldsOf(entry.before.value), -1)
      if (entry.after.exists) this.indexFields(change.id, fieldsOf(entry.after.value), 1)
    }
    for (const field of change.fields) {
      if (field.key !== 'sku' && field.key !== 'barcode') continue
      const index = field.key === 'sku' ? this.bySku : this.byBarcode
      if (field.before.exists && typeof field.before.value === 'string') removeFrom(index, field.before.value, change.id)
      if (field.after.exists && typeof field.after.value === 'string') addTo(index, field.after.value, change.id)
    }
  }

  private apply(changes: ChangeSet): Set<string> {
    const touched = new Set<string>()
    for (const r of changes.ledgerInserts) {
      if (countable(r.record)) {
        this.addMovement(r.record, 1)
        touched.add(r.record.item)
      }
    }
    for (const r of changes.ledgerDeletes) {
      if (countable(r)) {
        this.addMovement(r, -1)
        touched.add(r.item)
      }
    }
    for (const k of changes.serverKeys) {
      if (k.root !== ROOT.baselines) continue
      const at = parseBaselineKey(k.key)
      if (!at) continue
      const before = k.before.exists && Number.isSafeInteger(k.before.value) ? (k.before.value as number) : 0
      const after = k.after.exists && Number.isSafeInteger(k.after.value) ? (k.after.value as number) : 0
      this.add(at.item, at.location, after - before)
      touched.add(at.item)
    }
    for (const change of changes.items.values()) this.applyEntity(change, touched)
    for (const item of touched) this.refresh(item)
    return touched
  }

  /** Derives everything from the document as it is: used once, when the index is created. */
  private rebuild(): void {
    for (const [id, map] of this.items) {
      if (map instanceof Y.Map) this.indexFields(id, map.toJSON(), 1)
    }
    for (const record of this.doc.getArray<unknown>(ROOT.movements).toArray()) {
      if (countable(record)) this.addMovement(record, 1)
    }
    for (const [key, value] of this.doc.getMap<unknown>(ROOT.baselines)) {
      const at = parseBaselineKey(key)
      if (at && Number.isSafeInteger(value)) this.add(at.item, at.location, value as number)
    }
    for (const id of new Set([...this.items.keys(), ...this.stock.keys()])) this.refresh(id)
  }
}
