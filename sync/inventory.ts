/**
 * The typed API over a tenant document, for the client, the server, tests and third-party
 * programs. Stock is never a number anyone overwrites: every change of stock is a new movement in
 * the ledger, and on-hand is derived (baseline + Σ delta) by the LedgerIndex.
 *
 * Every write is checked with the same rules the server applies before anything is written, so bad
 * input fails here with an InventoryError and leaves the document untouched.
 */
import * as Y from 'yjs'
import { cryptoRandom, newId } from './ids.js'
import type { ItemId, LocationId, RandomSource } from './ids.js'
import { appendToLedger } from './ledger.js'
import { LedgerIndex } from './ledger-index.js'
import type { InventoryCounts } from './ledger-index.js'
import type { Origin } from './origin.js'
import { checkMovementShape } from './rules.js'
import {
  ITEM_FIELDS,
  LOCATION_FIELDS,
  ROOT,
  SCHEMA_VERSION,
  checkField,
} from './schema.js'
import type { FieldSpec, ItemFields, LocationFields, Movement, MovementKind } from './schema.js'
import type { StockStatus } from './status.js'

export type InventoryErrorCode =
  | 'invalid-input'
  | 'unknown-item'
  | 'unknown-location'
  | 'duplicate-sku'
  | 'not-undoable'
  | 'read-only'
  | 'unsupported-schema'

export class InventoryError extends Error {
  override readonly name = 'InventoryError'
  constructor(
    readonly code: InventoryErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface InventoryOptions {
  /** The user every movement is recorded for (`by`); the server checks it against the connection. */
  readonly userId: string
  /** A viewer's inventory refuses every write before it reaches the document. */
  readonly readOnly?: boolean
  readonly now?: () => number
  readonly random?: RandomSource
  /** Transaction origin of writes; defaults to `{ source: 'local', userId }`. */
  readonly origin?: Origin
  /** Share one index between several Inventory views of a document (the server does). */
  readonly index?: LedgerIndex
}

export interface ItemView {
  readonly id: ItemId
  readonly sku: string
  readonly name: string
  readonly unit: string
  readonly barcode: string | undefined
  readonly reorderPoint: number
  readonly reorderQty: number
  readonly archived: boolean
  readonly onHand: number
  readonly byLocation: Readonly<Record<string, number>>
  readonly status: StockStatus
}

export interface LocationView {
  readonly id: LocationId
  readonly name: string
  readonly archived: boolean
}

export type NewItem = Omit<ItemFields, 'createdAt' | 'archived'>
export type ItemPatch = Partial<Omit<ItemFields, 'createdAt'>>

interface At {
  readonly item: string
  readonly location: string
  readonly note?: string
}

export class Inventory {
  readonly index: LedgerIndex
  readonly items: Y.Map<Y.Map<unknown>>
  readonly locations: Y.Map<Y.Map<unknown>>
  readonly movements: Y.Array<Movement>
  private readonly ownsIndex: boolean
  private readonly now: () => number
  private readonly random: RandomSource
  private readonly origin: Origin

  constructor(
    readonly doc: Y.Doc,
    private readonly options: InventoryOptions,
  ) {
    this.items = doc.getMap(ROOT.items)
    this.locations = doc.getMap(ROOT.locations)
    this.movements = doc.getArray(ROOT.movements)
    this.ownsIndex = options.index === undefined
    this.index = options.index ?? new LedgerIndex(doc)
    this.now = options.now ?? Date.now
    this.random = options.random ?? cryptoRandom
    this.origin = options.origin ?? { source: 'local', userId: options.userId }
  }

  destroy(): void {
    if (this.ownsIndex) this.index.destroy()
  }

  get userId(): string {
    return this.options.userId
  }

  /** The schema version the document declares (written by the server), or undefined if none yet. */
  schemaVersion(): number | undefined {
    const v = this.doc.getMap<unknown>(ROOT.meta).get('schemaVersion')
    return typeof v === 'number' ? v : undefined
  }

  private assertWritable(): void {
    if (this.options.readOnly) throw new InventoryError('read-only', 'this user may only read the inventory')
    const version = this.schemaVersion()
    if (version !== undefined && version > SCHEMA_VERSION) {
      throw new InventoryError(
        'unsupported-schema',
        `the inventory uses schema version ${version}; this app understands up to ${SCHEMA_VERSION}: update the app`,
      )
    }
  }

  private write(fn: () => void): void {
    this.doc.transact(fn, this.origin)
  }

  // ---- items and locations ---------------------------------------------------------------

  private checkFields(kind: string, specs: Record<string, FieldSpec>, fields: Record<string, unknown>, creating: boolean): void {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      const spec = Object.hasOwn(specs, key) ? specs[key] : undefined // own keys only: not `constructor`
      if (!spec) throw new InventoryError('invalid-input', `${kind} has no field "${key}"`)
      const problem = checkField(key, spec, value)
      if (problem) throw new InventoryError('invalid-input', `${kind}: ${problem}`)
    }
    if (creating) {
      for (const [key, spec] of Object.entries(specs)) {
        if (spec.required && fields[key] === undefined) throw new InventoryError('invalid-input', `${kind} needs ${key}`)
      }
    }
  }

  private assertNewSku(sku: string, except?: string): void {
    const taken = this.index.itemsWithSku(sku).find((id) => id !== except && this.items.get(id)?.get('archived') !== true)
    if (taken) throw new InventoryError('duplicate-sku', `SKU ${sku} is already used by item ${taken}`)
  }

  createItem(input: NewItem): ItemId {
    this.assertWritable()
    const fields: Record<string, unknown> = { ...input, createdAt: this.now() }
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete fields[k]
    this.checkFields('item', ITEM_FIELDS, fields, true)
    this.assertNewSku(input.sku)
    const id = newId('it', this.random) as ItemId
    this.write(() => this.items.set(id, new Y.Map(Object.entries(fields))))
    return id
  }

  private entity(map: Y.Map<Y.Map<unknown>>, kind: 'item' | 'location', id: string): Y.Map<unknown> {
    const entity = map.get(id)
    if (!(entity instanceof Y.Map)) {
      throw new InventoryError(kind === 'item' ? 'unknown-item' : 'unknown-location', `there is no ${kind} ${id}`)
    }
    return entity
  }

  /** Sets the given fields; a field given as undefined is removed (optional fields only). */
  updateItem(id: string, patch: ItemPatch): void {
    this.assertWritable()
    const item = this.entity(this.items, 'item', id)
    this.checkFields('item', ITEM_FIELDS, patch as Record<string, unknown>, false)
    for (const [key, value] of Object.entries(patch)) {
      const spec = ITEM_FIELDS[key as keyof typeof ITEM_FIELDS]
      if (value === undefined && spec.required) throw new InventoryError('invalid-input', `item needs ${key}`)
    }
    if (patch.sku !== undefined && patch.sku !== item.get('sku')) this.assertNewSku(patch.sku, id)
    this.write(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) item.delete(key)
        else if (item.get(key) !== value) item.set(key, value)
      }
    })
  }

  archiveItem(id: string): void {
    this.updateItem(id, { archived: true })
  }

  unarchiveItem(id: string): void {
    const sku = this.entity(this.items, 'item', id).get('sku')
    if (typeof sku === 'string') this.assertNewSku(sku, id)
    this.updateItem(id, { archived: false })
  }

  createLocation(input: Omit<LocationFields, 'createdAt' | 'archived'>): LocationId {
    this.assertWritable()
    const fields: Record<string, unknown> = { name: input.name, createdAt: this.now() }
    this.checkFields('location', LOCATION_FIELDS, fields, true)
    const id = newId('loc', this.random) as LocationId
    this.write(() => this.locations.set(id, new Y.Map(Object.entries(fields))))
    return id
  }

  updateLocation(id: string, patch: Partial<Omit<LocationFields, 'createdAt'>>): void {
    this.assertWritable()
    const location = this.entity(this.locations, 'location', id)
    this.checkFields('location', LOCATION_FIELDS, patch as Record<string, unknown>, false)
    this.write(() => {
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) location.set(key, value)
    })
  }

  archiveLocation(id: string): void {
    this.updateLocation(id, { archived: true })
  }

  item(id: string): ItemView | undefined {
    const item = this.items.get(id)
    if (!(item instanceof Y.Map)) return undefined
    const str = (k: string, fallback: string) => {
      const v = item.get(k)
      return typeof v === 'string' ? v : fallback
    }
    const num = (k: string) => {
      const v = item.get(k)
      return typeof v === 'number' ? v : 0
    }
    const barcode = item.get('barcode')
    return {
      id: id as ItemId,
      sku: str('sku', ''),
      name: str('name', ''),
      unit: str('unit', 'each'),
      barcode: typeof barcode === 'string' ? barcode : undefined,
      reorderPoint: num('reorderPoint'),
      reorderQty: num('reorderQty'),
      archived: item.get('archived') === true,
      onHand: this.index.onHand(id),
      byLocation: Object.fromEntries(this.index.byLocation(id)),
      status: this.index.status(id),
    }
  }

  /** Every item, in no particular order. */
  listItems(): ItemView[] {
    const out: ItemView[] = []
    for (const id of this.items.keys()) {
      const view = this.item(id)
      if (view) out.push(view)
    }
    return out
  }

  location(id: string): LocationView | undefined {
    const loc = this.locations.get(id)
    if (!(loc instanceof Y.Map)) return undefined
    const name = loc.get('name')
    return { id: id as LocationId, name: typeof name === 'string' ? name : '', archived: loc.get('archived') === true }
  }

  listLocations(): LocationView[] {
    return [...this.locations.keys()].flatMap((id) => this.location(id) ?? [])
  }

  /** Items with this SKU or barcode: what a scanner's input opens. */
  findByCode(code: string): ItemView[] {
    const ids = new Set([...this.index.itemsWithSku(code), ...this.index.itemsWithBarcode(code)])
    return [...ids].flatMap((id) => this.item(id) ?? [])
  }

  // ---- movements -------------------------------------------------------------------------

  private movement(kind: MovementKind, at: At, delta: number, extra: Record<string, unknown> = {}): Movement {
    const m: Record<string, unknown> = {
      id: newId('mv', this.random),
      item: at.item,
      location: at.location,
      delta,
      kind,
      by: this.options.userId,
      at: this.now(),
      ...extra,
    }
    if (at.note !== undefined) m.note = at.note
    for (const [k, v] of Object.entries(m)) if (v === undefined) delete m[k]
    return m as unknown as Movement
  }

  /** Checks and appends movements in one transaction: all of them, or (on an error) none. */
  private record(movements: Movement[]): void {
    this.assertWritable()
    for (const m of movements) {
      const problems = checkMovementShape(m)
      if (problems.length > 0) throw new InventoryError('invalid-input', `${m.kind}: ${problems.join('; ')}`)
      this.entity(this.items, 'item', m.item)
      this.entity(this.locations, 'location', m.location)
    }
    this.write(() => appendToLedger(this.movements, movements))
  }

  private quantity(q: number, what: string): number {
    if (!Number.isSafeInteger(q) || q <= 0) throw new InventoryError('invalid-input', `${what} must be a whole number above zero (got ${q})`)
    return q
  }

  receive(input: At & { quantity: number; reason?: string }): Movement {
    const m = this.movement('receive', input, this.quantity(input.quantity, 'quantity'), { reason: input.reason })
    this.record([m])
    return m
  }

  pick(input: At & { quantity: number; reason?: string }): Movement {
    const m = this.movement('pick', input, -this.quantity(input.quantity, 'quantity'), { reason: input.reason })
    this.record([m])
    return m
  }

  adjust(input: At & { delta: number; reason: string }): Movement {
    const m = this.movement('adjust', input, input.delta, { reason: input.reason })
    this.record([m])
    return m
  }

  /**
   * A stock count: `counted` is what the person counted; expected is what this device shows now.
   * The delta is counted − expected, so movements this device had not seen stay on top of it.
   */
  count(input: At & { counted: number; reason?: string }): Movement {
    const expected = this.index.onHand(input.item, input.location)
    const m = this.movement('count', input, input.counted - expected, {
      counted: input.counted,
      expected,
      reason: input.reason,
    })
    this.record([m])
    return m
  }

  /** Moves stock between two locations: both legs are written in one transaction. */
  transfer(input: { item: string; from: string; to: string; quantity: number; note?: string }): [Movement, Movement] {
    if (input.from === input.to) throw new InventoryError('invalid-input', 'a transfer needs two different locations')
    const q = this.quantity(input.quantity, 'quantity')
    const transfer = newId('tr', this.random)
    const note = input.note === undefined ? {} : { note: input.note }
    const out = this.movement('transfer-out', { item: input.item, location: input.from, ...note }, -q, { transfer })
    const inn = this.movement('transfer-in', { item: input.item, location: input.to, ...note }, q, { transfer })
    this.record([out, inn])
    return [out, inn]
  }

  /** Written by the server when it restores a snapshot; the rules refuse it from anyone else. */
  restore(input: At & { delta: number; reason: string }): Movement {
    const m = this.movement('restore', input, input.delta, { reason: input.reason })
    this.record([m])
    return m
  }

  /** Reverses one of this user's own movements with a new movement (a transfer: both legs). */
  undo(movementId: string, reason?: string): Movement[] {
    const target = this.index.movementsWithId(movementId)[0]
    if (!target) throw new InventoryError('not-undoable', `movement ${movementId} is not in the ledger`)
    if (target.by !== this.options.userId) throw new InventoryError('not-undoable', `only ${target.by} may undo movement ${movementId}`)
    if (target.kind === 'restore') {
      throw new InventoryError('not-undoable', 'a restore is undone by restoring the snapshot taken right before it')
    }
    const legs =
      target.transfer === undefined
        ? [target]
        : this.index.movementsOf(target.item).filter((m) => m.transfer === target.transfer)
    const undos = legs.map((leg) => {
      if (this.index.undoesOf(leg.id).length > 0) throw new InventoryError('not-undoable', `movement ${leg.id} is already undone`)
      return this.movement('undo', { item: leg.item, location: leg.location }, -leg.delta, { undoes: leg.id, reason })
    })
    this.record(undos)
    return undos
  }

  // ---- reads -----------------------------------------------------------------------------

  onHand(item: string, location?: string): number {
    return this.index.onHand(item, location)
  }

  status(item: string): StockStatus {
    return this.index.status(item)
  }

  totals(): InventoryCounts {
    return this.index.counts()
  }

  movementsOf(item: string): Movement[] {
    return this.index.movementsOf(item)
  }
}
