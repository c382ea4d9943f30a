/**
 * What one Yjs transaction changed in a tenant document, as plain data the rules can judge.
 *
 * Collect it inside `afterTransaction` (or with `captureChanges`), while deleted content is still
 * readable: Yjs garbage-collects it right after that event. The work is proportional to what the
 * transaction touched, never to the size of the document.
 */
import * as Y from 'yjs'
import { ROOT, ROOT_NAMES, SERVER_ROOTS } from './schema.js'

/** Any shared type. (`any` because Yjs types its event parameter invariantly: AbstractType<YEvent<any>>.) */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyType = Y.AbstractType<any>

/** A value before or after a change: present with a value, or absent. */
export type Slot = { readonly exists: false } | { readonly exists: true; readonly value: unknown }
export const ABSENT: Slot = { exists: false }
const present = (value: unknown): Slot => ({ exists: true, value })

/**
 * A shared type where plain data was expected, or (for `map`) the fields of an item or location
 * map as plain values. Validation refuses every kind but an entity's `map`.
 */
export class SharedValue {
  constructor(
    readonly type: 'map' | 'array' | 'text' | 'xml' | 'shared',
    readonly fields: Readonly<Record<string, unknown>> | null,
  ) {}
}

/** A write to one key of a Y.Map. `client` is the Yjs client id that wrote `after`. */
export interface KeyChange {
  readonly key: string
  readonly before: Slot
  readonly after: Slot
  readonly client: number | null
}

/** Changes to one item or location. */
export interface EntityChange {
  readonly id: string
  /** The entry itself was added, replaced or removed. */
  entry: KeyChange | null
  /** Writes to fields of an entity map that existed before the transaction. */
  readonly fields: KeyChange[]
  /** Fields holding shared types that changed inside (never valid). */
  readonly nested: Set<string>
}

/**
 * A run of content by Yjs id: `length` units starting at (client, clock). Ids stay valid when Yjs
 * later splits or merges the structs that hold them, so a fix can find them again.
 */
export interface ContentRef {
  readonly client: number
  readonly clock: number
  readonly length: number
}

export interface LedgerInsert {
  readonly record: unknown
  readonly client: number
  /** The record itself (length 1), or a whole struct that is not a plain record. */
  readonly ref: ContentRef
  /** False when the content is not a plain record (a shared type, a string, binary). */
  readonly plain: boolean
}

export interface ServerKeyChange extends KeyChange {
  readonly root: string
}

/** Content written outside the schema: an unknown root, or a misplaced struct. */
export interface StrayStruct {
  readonly where: string
  readonly client: number
  readonly ref: ContentRef
}

export interface ChangeSet {
  readonly items: Map<string, EntityChange>
  readonly locations: Map<string, EntityChange>
  readonly ledgerInserts: LedgerInsert[]
  readonly ledgerDeletes: unknown[]
  readonly serverKeys: ServerKeyChange[]
  readonly strays: StrayStruct[]
}

export const isEmptyChangeSet = (c: ChangeSet): boolean =>
  c.items.size === 0 &&
  c.locations.size === 0 &&
  c.ledgerInserts.length === 0 &&
  c.ledgerDeletes.length === 0 &&
  c.serverKeys.length === 0 &&
  c.strays.length === 0

const sharedKind = (t: AnyType): SharedValue['type'] => {
  if (t instanceof Y.Map) return 'map'
  if (t instanceof Y.Array) return 'array'
  if (t instanceof Y.Text) return 'text'
  if (t instanceof Y.XmlElement || t instanceof Y.XmlFragment || t instanceof Y.XmlText) return 'xml'
  return 'shared'
}

const refOf = (struct: Y.Item): ContentRef => ({ client: struct.id.client, clock: struct.id.clock, length: struct.length })

const lastContent = (item: Y.Item): unknown => {
  const content = item.content.getContent()
  return content[content.length - 1]
}

export class ChangeCollector {
  private readonly roots = new Map<AnyType, string>()

  constructor(private readonly tr: Y.Transaction) {
    for (const [name, type] of tr.doc.share) this.roots.set(type, name)
  }

  private addedHere(id: Y.ID): boolean {
    return id.clock >= (this.tr.beforeState.get(id.client) ?? 0)
  }

  /** Alive before this transaction: created earlier and not deleted before it began. */
  private aliveBefore(item: Y.Item): boolean {
    return !this.addedHere(item.id) && (!item.deleted || Y.isDeleted(this.tr.deleteSet, item.id))
  }

  /** A value as plain data; shared types become SharedValue, maps with their fields. */
  private describe(value: unknown, asBefore: boolean): unknown {
    if (!(value instanceof Y.AbstractType)) return value
    const kind = sharedKind(value)
    if (kind !== 'map') return new SharedValue(kind, null)
    // No prototype: a field named `__proto__` must stay a field the rules can see and refuse.
    const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const [key, item] of value._map) {
      const slot = asBefore ? this.beforeOf(item) : item.deleted ? ABSENT : present(lastContent(item))
      if (slot.exists) fields[key] = this.describe(slot.value, asBefore)
    }
    return new SharedValue('map', fields)
  }

  /** What a key held before the transaction, starting from its newest struct. */
  private beforeOf(latest: Y.Item | undefined): Slot {
    let item: Y.Item | null = latest ?? null
    while (item !== null && this.addedHere(item.id)) item = item.left
    return item !== null && this.aliveBefore(item) ? present(lastContent(item)) : ABSENT
  }

  private keyChange(map: AnyType, key: string): KeyChange | null {
    const latest = map._map.get(key)
    if (latest === undefined) return null
    let beforeItem: Y.Item | null = latest
    while (beforeItem !== null && this.addedHere(beforeItem.id)) beforeItem = beforeItem.left
    const afterItem = latest.deleted ? null : latest
    const beforeAlive = beforeItem !== null && this.aliveBefore(beforeItem) ? beforeItem : null
    if (afterItem === beforeAlive) return null
    return {
      key,
      before: beforeAlive ? present(this.describe(lastContent(beforeAlive), true)) : ABSENT,
      after: afterItem ? present(this.describe(lastContent(afterItem), false)) : ABSENT,
      client: afterItem ? afterItem.id.client : null,
    }
  }

  /** The chain from a struct up to its root: [struct, parent's struct, …, top struct]. */
  private chain(item: Y.Item): { root: string; chain: Y.Item[] } {
    const chain = [item]
    let type = item.parent as AnyType
    while (type._item !== null) {
      chain.push(type._item)
      type = type._item.parent as AnyType
    }
    return { root: this.roots.get(type) ?? '', chain }
  }

  collect(): ChangeSet {
    const out: ChangeSet = {
      items: new Map(),
      locations: new Map(),
      ledgerInserts: [],
      ledgerDeletes: [],
      serverKeys: [],
      strays: [],
    }
    const entity = (root: string, id: string): EntityChange => {
      const map = root === ROOT.items ? out.items : out.locations
      let change = map.get(id)
      if (!change) {
        change = { id, entry: null, fields: [], nested: new Set() }
        map.set(id, change)
      }
      return change
    }
    const stray = new Set<Y.Item>()
    const strayAt = (where: string, struct: Y.Item) => {
      if (stray.has(struct)) return
      stray.add(struct)
      out.strays.push({ where, client: struct.id.client, ref: refOf(struct) })
    }

    // 1. Every struct this transaction inserted: ledger records, and anything out of place.
    const store = this.tr.doc.store
    for (const [client, after] of this.tr.afterState) {
      const before = this.tr.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = store.clients.get(client) ?? []
      for (let i = firstAtOrAfter(structs, before); i < structs.length; i++) {
        const struct = structs[i]
        if (!(struct instanceof Y.Item) || struct.deleted) continue
        const { root, chain } = this.chain(struct)
        const top = chain[chain.length - 1] as Y.Item
        const depth = chain.length // 1: a direct child of the root
        if (!ROOT_NAMES.has(root)) {
          strayAt(`unknown top-level type "${root}"`, top)
        } else if (root === ROOT.movements) {
          if (depth > 1 || struct.parentSub !== null) strayAt('movements', top)
          else if (struct.content instanceof Y.ContentAny) {
            const records = struct.content.getContent()
            for (let offset = 0; offset < records.length; offset++) {
              const ref = { client, clock: struct.id.clock + offset, length: 1 }
              out.ledgerInserts.push({ record: records[offset], client, ref, plain: true })
            }
          } else {
            out.ledgerInserts.push({ record: new SharedValue('shared', null), client, ref: refOf(struct), plain: false })
          }
        } else if (struct.parentSub === null) {
          strayAt(root, struct) // list content inside a map
        } else if (root === ROOT.items || root === ROOT.locations) {
          if (depth >= 3) entity(root, top.parentSub ?? '').nested.add(chain[depth - 2]?.parentSub ?? '')
        } else if (depth >= 2) {
          strayAt(root, struct) // server maps hold plain values only
        }
      }
    }

    // 2. Ledger records this transaction deleted (those it also added never existed for anyone).
    const movements = this.tr.doc.share.get(ROOT.movements)
    if (movements) {
      Y.iterateDeletedStructs(this.tr, this.tr.deleteSet, (struct) => {
        if (
          struct instanceof Y.Item &&
          struct.parent === movements &&
          struct.parentSub === null &&
          !this.addedHere(struct.id) &&
          struct.content instanceof Y.ContentAny
        ) {
          out.ledgerDeletes.push(...struct.content.getContent())
        }
      })
    }

    // 3. Key writes in maps that existed before the transaction.
    for (const [type, keys] of this.tr.changed) {
      if (type._item !== null && type._item.deleted) continue
      const name = this.roots.get(type)
      const entityRoot = type._item ? this.roots.get(type._item.parent as AnyType) : undefined
      for (const key of keys) {
        if (key === null) continue // list content: handled in step 1
        if (name === ROOT.items || name === ROOT.locations) {
          const change = this.keyChange(type, key)
          if (change) entity(name, key).entry = change
        } else if (name !== undefined && SERVER_ROOTS.has(name)) {
          const change = this.keyChange(type, key)
          if (change) out.serverKeys.push({ root: name, ...change })
        } else if (
          (entityRoot === ROOT.items || entityRoot === ROOT.locations) &&
          type._item?.parentSub
        ) {
          const change = this.keyChange(type, key)
          if (change) entity(entityRoot, type._item.parentSub).fields.push(change)
        }
        // Keys set on the movements array or deeper levels are caught as strays in step 1.
      }
    }
    return out
  }
}

/** Index of the first struct whose range ends after `clock` (structs are sorted by clock). */
const firstAtOrAfter = (structs: ReadonlyArray<Y.Item | Y.GC>, clock: number): number => {
  let lo = 0
  let hi = structs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const s = structs[mid] as Y.Item | Y.GC
    if (s.id.clock + s.length <= clock) lo = mid + 1
    else hi = mid
  }
  return lo
}

export const collectChanges = (tr: Y.Transaction): ChangeSet => new ChangeCollector(tr).collect()

/**
 * Runs `apply` (which must make exactly the transactions to judge) and returns what each
 * of its transactions changed, collected while deleted content is still readable.
 */
export const captureChanges = (doc: Y.Doc, apply: () => void): ChangeSet[] => {
  const sets: ChangeSet[] = []
  const listener = (tr: Y.Transaction) => {
    const changes = collectChanges(tr)
    if (!isEmptyChangeSet(changes)) sets.push(changes)
  }
  doc.on('afterTransaction', listener)
  try {
    apply()
  } finally {
    doc.off('afterTransaction', listener)
  }
  return sets
}
