/**
 * Reading a tenant document the way the fuzz suites judge it: its state as comparable plain data,
 * the full-state validity check (every rule, over the whole document rather than one change), and
 * the comparison of an incrementally kept LedgerIndex with one built from scratch.
 */
import * as Y from 'yjs'
import { LedgerIndex } from '../../sync/ledger-index.js'
import type { Actor } from '../../sync/origin.js'
import { checkMovementShape } from '../../sync/rules.js'
import { ENTITY_FIELDS, ID_PATTERN, MOVEMENT_FIELDS, MOVEMENT_KINDS, MOVEMENT_KIND_NAMES, ROOT, ROOT_NAMES, SERVER_ROOTS, checkField } from '../../sync/schema.js'
import type { EntityKind, Movement, MovementKind } from '../../sync/schema.js'
import { fork } from './replicas.js'

/** Any shared type (Yjs types its event parameter invariantly, hence `any`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyType = Y.AbstractType<any>

/** Plain data with object keys sorted, so two replicas' JSON compare equal whatever their key order. */
export const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

const byId = (a: unknown, b: unknown): number => {
  const ia = String((a as { id?: unknown } | null)?.id)
  const ib = String((b as { id?: unknown } | null)?.id)
  return ia < ib ? -1 : ia > ib ? 1 : 0
}

/** What [CONV-1] compares: the JSON of every root, the ledger both as a sorted-by-id list and in order. */
export interface DocumentState {
  readonly items: unknown
  readonly locations: unknown
  readonly movements: unknown
  readonly ledgerOrder: unknown
  readonly baselines: unknown
  readonly alerts: unknown
  readonly meta: unknown
}

export const documentState = (doc: Y.Doc): DocumentState => {
  const ledger = doc.getArray<unknown>(ROOT.movements).toJSON()
  return {
    items: canonical(doc.getMap(ROOT.items).toJSON()),
    locations: canonical(doc.getMap(ROOT.locations).toJSON()),
    movements: canonical([...ledger].sort(byId)),
    ledgerOrder: canonical(ledger),
    baselines: canonical(doc.getMap(ROOT.baselines).toJSON()),
    alerts: canonical(doc.getMap(ROOT.alerts).toJSON()),
    meta: canonical(doc.getMap(ROOT.meta).toJSON()),
  }
}

/** True if a shared type holds anything not deleted: list content or a map entry. */
export const hasLiveContent = (type: AnyType): boolean => {
  for (let n = type._start; n !== null; n = n.right) if (!n.deleted) return true
  for (const item of type._map.values()) if (!item.deleted) return true
  return false
}

const hasLiveListContent = (type: AnyType): boolean => {
  for (let n = type._start; n !== null; n = n.right) if (!n.deleted) return true
  return false
}

/** Live records of the ledger with the Yjs client id that wrote each. */
export const ledgerRecords = (doc: Y.Doc): Array<{ record: unknown; client: number; struct: Y.Item }> => {
  const out: Array<{ record: unknown; client: number; struct: Y.Item }> = []
  const movements = doc.getArray<unknown>(ROOT.movements)
  for (let n = movements._start; n !== null; n = n.right) {
    if (n.deleted) continue
    for (const record of n.content.getContent()) out.push({ record, client: n.id.client, struct: n })
  }
  return out
}

export interface StateCheckOptions {
  /** Who wrote with each Yjs client id. */
  readonly authorOf: (client: number) => Actor
  /** Check undo targets and transfer pairs (not meaningful once compaction has folded movements). */
  readonly ledgerComplete: boolean
}

const checkEntities = (doc: Y.Doc, root: string, kind: EntityKind, problems: string[]): void => {
  const map = doc.getMap<unknown>(root)
  if (hasLiveListContent(map)) problems.push(`${root} holds list content`)
  const specs = ENTITY_FIELDS[kind]
  for (const [id, entity] of map) {
    if (!ID_PATTERN.test(id)) problems.push(`${kind} id ${JSON.stringify(id.slice(0, 80))} is not a valid id`)
    if (!(entity instanceof Y.Map)) {
      problems.push(`${root}/${id} is not a map of fields`)
      continue
    }
    if (hasLiveListContent(entity)) problems.push(`${root}/${id} holds list content`)
    for (const [field, value] of entity as Y.Map<unknown>) {
      // Own keys only: `constructor` or `toString` are not fields because every object answers to them.
      const spec = Object.hasOwn(specs, field) ? specs[field] : undefined
      if (!spec) problems.push(`${root}/${id} has unknown field ${field}`)
      else if (value instanceof Y.AbstractType) problems.push(`${root}/${id}/${field} holds a shared type`)
      else {
        const problem = checkField(field, spec, value)
        if (problem) problems.push(`${root}/${id}: ${problem}`)
      }
    }
    for (const [field, spec] of Object.entries(specs)) {
      if (spec.required && !(entity as Y.Map<unknown>).has(field)) problems.push(`${root}/${id} lacks ${field}`)
    }
  }
}

/**
 * Re-validates a whole document: what every rule of sync/rules.ts says of a single change, said of
 * the state. Returns what is wrong, in plain words; an empty list means the document is valid.
 */
export const stateProblems = (doc: Y.Doc, options: StateCheckOptions): string[] => {
  const problems: string[] = []
  for (const [name, type] of doc.share) {
    if (!ROOT_NAMES.has(name) && hasLiveContent(type)) problems.push(`unknown top-level type ${name} has content`)
  }
  checkEntities(doc, ROOT.items, 'item', problems)
  checkEntities(doc, ROOT.locations, 'location', problems)

  const items = doc.getMap<unknown>(ROOT.items)
  const locations = doc.getMap<unknown>(ROOT.locations)
  const movements = doc.getArray<unknown>(ROOT.movements)
  for (const [key, item] of movements._map) if (!item.deleted) problems.push(`movements holds a key ${key}`)
  const ids = new Map<string, Movement[]>()
  const valid: Movement[] = []
  for (const { record, client, struct } of ledgerRecords(doc)) {
    if (!(struct.content instanceof Y.ContentAny)) {
      problems.push(`the ledger holds a ${struct.content.constructor.name}`)
      continue
    }
    const shape = checkMovementShape(record)
    // Checked here too, independently of checkMovementShape: own keys and a kind from the list.
    if (typeof record === 'object' && record !== null) {
      for (const key of Object.keys(record)) if (!Object.hasOwn(MOVEMENT_FIELDS, key)) shape.push(`unknown field ${key}`)
      const kind = (record as { kind?: unknown }).kind
      if (!MOVEMENT_KIND_NAMES.includes(kind as MovementKind)) shape.push(`kind ${String(kind)} is not a movement kind`)
    }
    if (shape.length > 0) {
      problems.push(`movement ${JSON.stringify(record)?.slice(0, 200)}: ${shape.join('; ')}`)
      continue
    }
    const m = record as Movement
    ids.set(m.id, [...(ids.get(m.id) ?? []), m])
    valid.push(m)
    if (!(items.get(m.item) instanceof Y.Map)) problems.push(`movement ${m.id} refers to missing item ${m.item}`)
    if (!(locations.get(m.location) instanceof Y.Map)) problems.push(`movement ${m.id} refers to missing location ${m.location}`)
    if (m.kind === 'count' && m.delta !== (m.counted ?? 0) - (m.expected ?? 0)) problems.push(`count ${m.id}: delta is not counted − expected`)
    const author = options.authorOf(client)
    if (author.kind === 'user') {
      if (author.role === 'viewer') problems.push(`movement ${m.id} was written by viewer ${author.userId}`)
      if (m.by !== author.userId) problems.push(`movement ${m.id} names ${m.by} but was written by ${author.userId}`)
      if (MOVEMENT_KINDS[m.kind as MovementKind].serverOnly) problems.push(`${m.kind} ${m.id} was written by ${author.userId}`)
    }
  }
  for (const [id, list] of ids) if (list.length > 1) problems.push(`movement id ${id} appears ${list.length} times`)

  if (options.ledgerComplete) {
    const undone = new Map<string, number>()
    const legs = new Map<string, Movement[]>()
    for (const m of valid) {
      if (m.kind === 'undo' && m.undoes !== undefined) {
        undone.set(m.undoes, (undone.get(m.undoes) ?? 0) + 1)
        const target = ids.get(m.undoes)?.[0]
        if (!target) problems.push(`undo ${m.id} reverses ${m.undoes}, which is not in the ledger`)
        else if (target.by !== m.by || target.item !== m.item || target.location !== m.location || target.delta !== -m.delta) {
          problems.push(`undo ${m.id} does not exactly reverse ${m.undoes} of the same user`)
        }
      }
      if (m.transfer !== undefined) legs.set(m.transfer, [...(legs.get(m.transfer) ?? []), m])
    }
    for (const [id, n] of undone) if (n > 1) problems.push(`movement ${id} is undone ${n} times`)
    for (const [transfer, pair] of legs) {
      const out = pair.filter((m) => m.kind === 'transfer-out')
      const inn = pair.filter((m) => m.kind === 'transfer-in')
      const a = out[0]
      const b = inn[0]
      if (out.length !== 1 || inn.length !== 1 || !a || !b || a.item !== b.item || a.location === b.location || a.delta !== -b.delta || a.by !== b.by) {
        problems.push(`transfer ${transfer} is not one leg out and one leg in (${pair.length} legs)`)
      }
    }
  }

  for (const root of SERVER_ROOTS) {
    const type = doc.share.get(root)
    if (!type) continue
    if (hasLiveListContent(type)) problems.push(`${root} holds list content`)
    for (const [key, item] of type._map) {
      if (item.deleted) continue
      if (options.authorOf(item.id.client).kind !== 'server') problems.push(`${root}/${key} was written by a client`)
    }
  }

  // Viewers write nothing: every struct a viewer made must be gone.
  for (const [client, structs] of doc.store.clients) {
    const author = options.authorOf(client)
    if (author.kind !== 'user' || author.role !== 'viewer') continue
    for (const s of structs) if (s instanceof Y.Item && !s.deleted) problems.push(`viewer ${author.userId} wrote ${s.id.client}:${s.id.clock}`)
  }
  return problems
}

const nonZero = (m: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...m].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/**
 * Compares a replica's incrementally kept index with a new LedgerIndex built from a copy of the
 * document: on-hand per item and location, status, counts, lookups by SKU, movement ids and undos.
 */
export const indexProblems = (
  doc: Y.Doc,
  index: LedgerIndex,
  known: { items: Iterable<string>; skus: Iterable<string>; movementIds: Iterable<string> },
): string[] => {
  const problems: string[] = []
  const copy = fork(doc)
  const fresh = new LedgerIndex(copy)
  try {
    const items = new Set([...known.items, ...doc.getMap(ROOT.items).keys()])
    for (const item of items) {
      const a = nonZero(index.byLocation(item))
      const b = nonZero(fresh.byLocation(item))
      if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`item ${item} on-hand by location: index ${JSON.stringify(a)}, fresh ${JSON.stringify(b)}`)
      if (index.onHand(item) !== fresh.onHand(item)) problems.push(`item ${item} on-hand: index ${index.onHand(item)}, fresh ${fresh.onHand(item)}`)
      if (index.status(item) !== fresh.status(item)) problems.push(`item ${item} status: index ${index.status(item)}, fresh ${fresh.status(item)}`)
      const ma = index.movementsOf(item).map((m) => m.id).sort()
      const mb = fresh.movementsOf(item).map((m) => m.id).sort()
      if (ma.join() !== mb.join()) problems.push(`item ${item} movements: index ${ma.length}, fresh ${mb.length}`)
    }
    const ca = JSON.stringify(canonical(index.counts()))
    const cb = JSON.stringify(canonical(fresh.counts()))
    if (ca !== cb) problems.push(`counts: index ${ca}, fresh ${cb}`)
    for (const sku of known.skus) {
      const a = [...index.itemsWithSku(sku)].sort().join()
      const b = [...fresh.itemsWithSku(sku)].sort().join()
      if (a !== b) problems.push(`items with SKU ${sku}: index [${a}], fresh [${b}]`)
    }
    for (const id of known.movementIds) {
      if (index.movementsWithId(id).length !== fresh.movementsWithId(id).length) problems.push(`movement ${id}: index has ${index.movementsWithId(id).length}, fresh ${fresh.movementsWithId(id).length}`)
      if (index.undoesOf(id).length !== fresh.undoesOf(id).length) problems.push(`undos of ${id}: index ${index.undoesOf(id).length}, fresh ${fresh.undoesOf(id).length}`)
    }
  } finally {
    fresh.destroy()
    copy.destroy()
  }
  return problems
}

/** Where two document states differ, briefly: per root, the entries only one side has or that differ. */
export const stateDiff = (a: DocumentState, b: DocumentState, nameA: string, nameB: string): string => {
  const out: string[] = []
  for (const root of Object.keys(a) as Array<keyof DocumentState>) {
    const x = a[root]
    const y = b[root]
    if (JSON.stringify(x) === JSON.stringify(y)) continue
    if (Array.isArray(x) && Array.isArray(y)) {
      const xs = x.map((v) => JSON.stringify(v))
      const ys = y.map((v) => JSON.stringify(v))
      const onlyX = xs.filter((v) => !ys.includes(v))
      const onlyY = ys.filter((v) => !xs.includes(v))
      out.push(`${root}: ${x.length} vs ${y.length} entries; only ${nameA}: ${onlyX.join(' ').slice(0, 600)}; only ${nameB}: ${onlyY.join(' ').slice(0, 600)}${onlyX.length + onlyY.length === 0 ? ' (same entries, other order)' : ''}`)
    } else if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      const rx = x as Record<string, unknown>
      const ry = y as Record<string, unknown>
      for (const key of new Set([...Object.keys(rx), ...Object.keys(ry)])) {
        const vx = JSON.stringify(rx[key])
        const vy = JSON.stringify(ry[key])
        if (vx !== vy) out.push(`${root}/${key}: ${nameA} ${vx?.slice(0, 300)}; ${nameB} ${vy?.slice(0, 300)}`)
      }
    } else {
      out.push(`${root}: ${nameA} ${JSON.stringify(x)?.slice(0, 300)}; ${nameB} ${JSON.stringify(y)?.slice(0, 300)}`)
    }
  }
  return out.join('\n  ')
}
