/**
 * Undo the offending parts of a change with a forward change: the server applies this in its own
 * transaction right after the change, and relays both together, so no other replica ever sees the
 * invalid state and the sender converges back to valid state.
 */
import * as Y from 'yjs'
import { SharedValue } from './changes.js'
import type { Slot } from './changes.js'
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

/** Applies the fixes of these violations in one transaction. Returns how many changes it made. */
export const compensate = (doc: Y.Doc, violations: readonly Violation[], origin: Origin): number => {
  if (violations.length === 0) return 0
  // One fix per target: a whole-entity restore supersedes field restores inside that entity.
  const keyFixes = new Map<string, Extract<Fix, { op: 'restore-key' }>>()
  const wholeEntities = new Set<string>()
  const recordDeletes = new Map<Y.Item, Set<number>>()
  const restores: unknown[] = []
  for (const { fix } of violations) {
    if (fix.op === 'restore-key') {
      keyFixes.set(`${fix.root}\u0000${fix.entity ?? ''}\u0000${fix.key}`, fix)
      if (fix.entity === null) wholeEntities.add(`${fix.root}\u0000${fix.key}`)
    } else if (fix.op === 'delete-record') {
      const offsets = recordDeletes.get(fix.ref.struct) ?? new Set<number>()
      offsets.add(fix.ref.offset)
      recordDeletes.set(fix.ref.struct, offsets)
    } else {
      restores.push(fix.record)
    }
  }

  let made = 0
  doc.transact((tr) => {
    // Ledger records: find where each affected struct starts in one walk, then delete from the end.
    const movements = doc.getArray<unknown>(ROOT.movements)
    const positions: number[] = []
    const pending = new Map(recordDeletes)
    for (const [struct, offsets] of recordDeletes) {
      if (struct.deleted) pending.delete(struct)
      else if (offsets.has(-1) || struct.parent !== movements) {
        struct.delete(tr) // misplaced or not a record: the whole struct goes
        made++
        pending.delete(struct)
      }
    }
    let index = 0
    for (let n = movements._start; n !== null && pending.size > 0; n = n.right) {
      const offsets = pending.get(n)
      if (offsets) {
        for (const offset of offsets) positions.push(index + offset)
        pending.delete(n)
      }
      if (!n.deleted && n.countable) index += n.length
    }
    positions.sort((a, b) => b - a)
    for (const position of positions) {
      movements.delete(position, 1)
      made++
    }
    if (restores.length > 0) {
      movements.push(restores)
      made += restores.length
    }

    for (const fix of keyFixes.values()) {
      if (fix.entity !== null && wholeEntities.has(`${fix.root}\u0000${fix.entity}`)) continue
      const root = doc.getMap<unknown>(fix.root)
      const target = fix.entity === null ? root : root.get(fix.entity)
      if (!(target instanceof Y.Map)) continue
      if (fix.before.exists) {
        const value = toYValue(fix.before)
        if (value === undefined) target.delete(fix.key)
        else target.set(fix.key, value)
      } else {
        target.delete(fix.key)
      }
      made++
    }
  }, origin)
  return made
}
