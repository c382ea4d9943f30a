/**
 * Restore as a forward change. Replacing the stored state would be undone by the first device that
 * reconnects with its old copy; instead the server writes whatever makes the live document equal
 * to the snapshot: fields and archived flags back, items and locations created since archived, and
 * `restore` movements that bring each on-hand back. Movements made offline meanwhile are not in
 * the live view the plan was computed from, so they stay on top when they arrive.
 */
import * as Y from 'yjs'
import { cryptoRandom, newId } from './ids.js'
import type { RandomSource } from './ids.js'
import { appendToLedger } from './ledger.js'
import { LedgerIndex } from './ledger-index.js'
import type { Origin } from './origin.js'
import { ROOT } from './schema.js'
import type { Movement } from './schema.js'

/** A plain picture of a tenant document: what a restore compares. */
export interface InventoryView {
  readonly items: ReadonlyMap<string, Readonly<Record<string, unknown>>>
  readonly locations: ReadonlyMap<string, Readonly<Record<string, unknown>>>
  /** item → location → on-hand, only non-zero entries. */
  readonly onHand: ReadonlyMap<string, ReadonlyMap<string, number>>
}

const plainFields = (map: unknown): Record<string, unknown> => (map instanceof Y.Map ? (map.toJSON() as Record<string, unknown>) : {})

export const viewOf = (doc: Y.Doc, index?: LedgerIndex): InventoryView => {
  const own = index ? null : new LedgerIndex(doc)
  const idx = index ?? (own as LedgerIndex)
  try {
    const items = new Map<string, Record<string, unknown>>()
    for (const [id, map] of doc.getMap(ROOT.items)) items.set(id, plainFields(map))
    const locations = new Map<string, Record<string, unknown>>()
    for (const [id, map] of doc.getMap(ROOT.locations)) locations.set(id, plainFields(map))
    const onHand = new Map<string, Map<string, number>>()
    for (const id of items.keys()) {
      const byLocation = new Map([...idx.byLocation(id)].filter(([, q]) => q !== 0))
      if (byLocation.size > 0) onHand.set(id, byLocation)
    }
    return { items, locations, onHand }
  } finally {
    own?.destroy()
  }
}

/** The view of a document stored as one update (a snapshot's state). */
export const viewOfState = (state: Uint8Array): InventoryView => {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, state)
    return viewOf(doc)
  } finally {
    doc.destroy()
  }
}

export interface FieldChange {
  readonly id: string
  readonly field: string
  /** Absent (undefined) when the field is not set on that side. */
  readonly from: unknown
  readonly to: unknown
}

export interface QuantityChange {
  readonly item: string
  readonly location: string
  readonly from: number
  readonly to: number
}

/** What a restore will write. Also the answer to "what would a restore change?" (the diff). */
export interface RestorePlan {
  /** Items that exist now but not in the snapshot: they will be archived (their stock goes to 0). */
  readonly itemsAddedSince: string[]
  /** Items in the snapshot that are missing now: they will be created again. */
  readonly itemsMissing: string[]
  readonly itemFields: FieldChange[]
  readonly locationsAddedSince: string[]
  readonly locationsMissing: string[]
  readonly locationFields: FieldChange[]
  readonly quantities: QuantityChange[]
}

export const isEmptyPlan = (p: RestorePlan): boolean =>
  p.itemsAddedSince.length + p.itemsMissing.length + p.itemFields.length + p.locationsAddedSince.length +
    p.locationsMissing.length + p.locationFields.length + p.quantities.length === 0

const fieldChanges = (
  id: string,
  live: Readonly<Record<string, unknown>>,
  target: Readonly<Record<string, unknown>>,
): FieldChange[] => {
  const out: FieldChange[] = []
  for (const field of new Set([...Object.keys(live), ...Object.keys(target)])) {
    if (field === 'archived') continue // handled with the archive decisions below
    if (JSON.stringify(live[field]) !== JSON.stringify(target[field])) {
      out.push({ id, field, from: live[field], to: target[field] })
    }
  }
  const liveArchived = live.archived === true
  const targetArchived = target.archived === true
  if (liveArchived !== targetArchived) out.push({ id, field: 'archived', from: liveArchived, to: targetArchived })
  return out
}

const entities = (
  live: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  target: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
) => {
  const addedSince: string[] = []
  const missing: string[] = []
  const fields: FieldChange[] = []
  for (const [id, liveFields] of live) {
    const targetFields = target.get(id)
    if (targetFields) fields.push(...fieldChanges(id, liveFields, targetFields))
    else if (liveFields.archived !== true) addedSince.push(id)
  }
  for (const id of target.keys()) if (!live.has(id)) missing.push(id)
  return { addedSince, missing, fields }
}

/** Everything that makes `live` equal to `target`. */
export const planRestore = (live: InventoryView, target: InventoryView): RestorePlan => {
  const items = entities(live.items, target.items)
  const locations = entities(live.locations, target.locations)
  const quantities: QuantityChange[] = []
  const itemIds = new Set([...live.onHand.keys(), ...target.onHand.keys()])
  for (const item of itemIds) {
    const now = live.onHand.get(item) ?? new Map<string, number>()
    const then = target.onHand.get(item) ?? new Map<string, number>()
    for (const location of new Set([...now.keys(), ...then.keys()])) {
      const from = now.get(location) ?? 0
      const to = then.get(location) ?? 0
      if (from !== to) quantities.push({ item, location, from, to })
    }
  }
  return {
    itemsAddedSince: items.addedSince,
    itemsMissing: items.missing,
    itemFields: items.fields,
    locationsAddedSince: locations.addedSince,
    locationsMissing: locations.missing,
    locationFields: locations.fields,
    quantities,
  }
}

export interface RestoreOptions {
  /** The user the restore movements are recorded for (the admin who restored). */
  readonly by: string
  readonly reason: string
  readonly at: number
  readonly origin: Origin
  readonly random?: RandomSource
}

/** Writes the plan into `doc` in one transaction. Returns the restore movements written. */
export const applyRestore = (doc: Y.Doc, target: InventoryView, plan: RestorePlan, options: RestoreOptions): Movement[] => {
  const random = options.random ?? cryptoRandom
  const items = doc.getMap<Y.Map<unknown>>(ROOT.items)
  const locations = doc.getMap<Y.Map<unknown>>(ROOT.locations)
  const movements: Movement[] = []
  const setFields = (root: Y.Map<Y.Map<unknown>>, changes: readonly FieldChange[]) => {
    for (const change of changes) {
      const map = root.get(change.id)
      if (!(map instanceof Y.Map)) continue
      if (change.to === undefined) map.delete(change.field)
      else map.set(change.field, change.to)
    }
  }
  const recreate = (root: Y.Map<Y.Map<unknown>>, ids: readonly string[], from: InventoryView['items']) => {
    for (const id of ids) {
      const fields = from.get(id)
      if (fields) root.set(id, new Y.Map(Object.entries(fields)))
    }
  }
  const archive = (root: Y.Map<Y.Map<unknown>>, ids: readonly string[]) => {
    for (const id of ids) root.get(id)?.set('archived', true)
  }
  doc.transact(() => {
    recreate(locations, plan.locationsMissing, target.locations)
    recreate(items, plan.itemsMissing, target.items)
    setFields(locations, plan.locationFields)
    setFields(items, plan.itemFields)
    archive(locations, plan.locationsAddedSince)
    archive(items, plan.itemsAddedSince)
    for (const q of plan.quantities) {
      movements.push({
        id: newId('mv', random),
        item: q.item,
        location: q.location,
        delta: q.to - q.from,
        kind: 'restore',
        reason: options.reason.slice(0, 200),
        by: options.by,
        at: options.at,
      })
    }
    if (movements.length > 0) appendToLedger(doc.getArray<Movement>(ROOT.movements), movements)
  }, options.origin)
  return movements
}
