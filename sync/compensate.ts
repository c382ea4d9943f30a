/**
 * Undo the offending parts of a change with a forward change: the server applies this in its own
 * transaction right after the change, and relays both together, so no other replica ever sees the
 * invalid state and the sender converges back to valid state.
 */
import * as Y from 'yjs'
import { SharedValue } from './changes.js'
import { appendToLedger } from './ledger.js'
import type { ContentRef, Slot } from './changes.js'
import type { Origin } from './origin.js'
import type { Fix, Violation } from './rules.js'
import { ROOT } from './schema.js'

const toYValue = (slot: Slot & { exists: true }): unknown => {
  const v = slot.value
  if (v instanceof SharedValue) {
    if (v.type !== 'map' || v.fields === null) return undefined
    const map = new Y.Map<unknown>()
    for (const [key, field] of Object.entries(v.fields)) {
      if (!(field instanceof SharedValue)) map.set(key, field)
    }
    return map
  }
  return v
}

/**
 * Deletes the content in a run of ids, splitting structs at its edges as Yjs does for its own
 * deletes. Ids survive the merging of structs that happens after each transaction.
 */
const deleteContent = (tr: Y.Transaction, ref: ContentRef): number => {
  const structs = tr.doc.store.clients.get(ref.client)
  const last = structs?.[structs.length - 1]
  const end = ref.clock + ref.length
  if (!last || last.id.clock + last.length < end) return 0
  let deleted = 0
  let clock = ref.clock
  while (clock < end) {
    const struct = Y.getItemCleanStart(tr, Y.createID(ref.client, clock))
    if (struct.id.clock + struct.length > end) Y.getItemCleanStart(tr, Y.createID(ref.client, end))
    if (struct instanceof Y.Item && !struct.deleted) {
      struct.delete(tr)
      deleted++
    }
    clock = struct.id.clock + struct.length
  }
  return deleted
}

/** Applies the fixes of these violations in one transaction. Returns how many changes it made. */
export const compensate = (doc: Y.Doc, violations: readonly Violation[], origin: Origin): number => {
  if (violations.length === 0) return 0
  // One fix per target: a whole-entity restore supersedes field restores inside that entity.
  const keyFixes = new Map<string, Extract<Fix, { op: 'restore-key' }>>()
  const wholeEntities = new Set<string>()
  const deletes = new Map<string, ContentRef>()
  const restores: unknown[] = []
  for (const { fix } of violations) {
    if (fix.op === 'restore-key') {
      keyFixes.set(`${fix.root}\u0000${fix.entity ?? ''}\u0000${fix.key}`, fix)
      if (fix.entity === null) wholeEntities.add(`${fix.root}\u0000${fix.key}`)
    } else if (fix.op === 'delete-content') {
      deletes.set(`${fix.ref.client}:${fix.ref.clock}`, fix.ref)
    } else {
      restores.push(fix.record)
    }
  }

  let made = 0
  doc.transact((tr) => {
    for (const ref of deletes.values()) made += deleteContent(tr, ref)
    if (restores.length > 0) {
      appendToLedger(doc.getArray<unknown>(ROOT.movements), restores)
      made += restores.length
    }
    for (const fix of keyFixes.values()) {
      if (fix.entity !== null && wholeEntities.has(`${fix.root}\u0000${fix.entity}`)) continue
      const root = doc.getMap<unknown>(fix.root)
      const target = fix.entity === null ? root : root.get(fix.entity)
      if (!(target instanceof Y.Map)) continue
      const value = fix.before.exists ? toYValue(fix.before) : undefined
      if (value === undefined) target.delete(fix.key)
      else target.set(fix.key, value)
      made++
    }
  }, origin)
  return made
}
