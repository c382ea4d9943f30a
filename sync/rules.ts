/**
 * Validation rules: pure functions over what a transaction changed (a ChangeSet) and who made
 * it. Each violation has a stable code (docs/SPEC.md, VAL-*), a message for people, and the fix
 * that undoes exactly the offending part (applied by `compensate`).
 */
import type { Actor } from './origin.js'
import { ABSENT, SharedValue } from './changes.js'
import type { ChangeSet, ContentRef, EntityChange, KeyChange, LedgerInsert, Slot } from './changes.js'
import {
  ENTITY_FIELDS,
  ID_PATTERN,
  MOVEMENT_FIELDS,
  MOVEMENT_ID_PATTERN,
  MOVEMENT_KINDS,
  ROOT,
  checkField,
} from './schema.js'
import type { EntityKind, FieldSpec, Movement, MovementKind } from './schema.js'

export const VIOLATION_CODES = [
  'read-only',
  'unknown-structure',
  'server-only',
  'invalid-id',
  'unknown-field',
  'invalid-field',
  'missing-field',
  'entity-removed',
  'invalid-movement',
  'unknown-item',
  'unknown-location',
  'author-mismatch',
  'duplicate-movement',
  'ledger-changed',
  'unpaired-transfer',
  'count-mismatch',
  'invalid-undo',
] as const
export type ViolationCode = (typeof VIOLATION_CODES)[number]

/** How to undo one violation. */
export type Fix =
  /** Delete content the change inserted: a ledger record, or a whole misplaced struct. */
  | { readonly op: 'delete-content'; readonly ref: ContentRef }
  | { readonly op: 'restore-record'; readonly record: unknown }
  /** Put back what `key` held before (in `root`, or in entity `entity` of `root`). */
  | { readonly op: 'restore-key'; readonly root: string; readonly entity: string | null; readonly key: string; readonly before: Slot }

export interface Violation {
  readonly code: ViolationCode
  readonly message: string
  /** Where, as root/key[/field], e.g. `items/it_123/sku` or `movements/mv_abc`. */
  readonly path: string
  readonly fix: Fix
}

/** What the rules need to know about the document after the transaction and about people. */
export interface RuleContext {
  /** Who wrote with this Yjs client id; `null` is the applier of the transaction (deletions carry no author). */
  actorOf(client: number | null): Actor
  itemExists(id: string): boolean
  locationExists(id: string): boolean
  /** Movements with this id in the ledger after the transaction. */
  movementsWithId(id: string): readonly Movement[]
  /** Movements of kind undo that reverse this movement id, after the transaction. */
  undoesOf(id: string): readonly Movement[]
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof SharedValue) &&
  Object.getPrototypeOf(v) === Object.prototype

/**
 * The spec of a field, own keys only: `constructor`, `toString` or `__proto__` are not fields, though
 * every object answers to them (`in` and plain indexing would find them on Object.prototype).
 */
const fieldSpec = (specs: Record<string, FieldSpec>, key: string): FieldSpec | undefined =>
  Object.hasOwn(specs, key) ? specs[key] : undefined

const describeActor = (a: Actor): string => (a.kind === 'server' ? 'the server' : `${a.userId} (${a.role})`)

/** Checks a movement record on its own: shape, fields, kind rules. Returns problems in plain words. */
export const checkMovementShape = (record: unknown): string[] => {
  if (!isPlainObject(record)) return ['a movement must be a plain record']
  const problems: string[] = []
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(MOVEMENT_FIELDS, key)) problems.push(`unknown field "${key}"`)
  }
  for (const [name, spec] of Object.entries(MOVEMENT_FIELDS)) {
    const value = record[name]
    if (value === undefined) {
      if (spec.required) problems.push(`${name} is required`)
      continue
    }
    const problem = checkField(name, spec, value)
    if (problem) problems.push(problem)
  }
  if (typeof record.id === 'string' && !MOVEMENT_ID_PATTERN.test(record.id)) problems.push('id has characters other than A-Z a-z 0-9 _ -')
  for (const ref of ['item', 'location'] as const) {
    const v = record[ref]
    if (typeof v === 'string' && !ID_PATTERN.test(v)) problems.push(`${ref} is not a valid id`)
  }
  const kind = record.kind
  if (typeof kind !== 'string' || !Object.hasOwn(MOVEMENT_KINDS, kind)) {
    problems.push(`kind must be one of ${Object.keys(MOVEMENT_KINDS).join(', ')}`)
    return problems
  }
  const rule = MOVEMENT_KINDS[kind as MovementKind]
  const delta = record.delta
  if (typeof delta === 'number') {
    if (rule.sign === 'positive' && !(delta > 0)) problems.push(`a ${kind} must have a positive delta`)
    if (rule.sign === 'negative' && !(delta < 0)) problems.push(`a ${kind} must have a negative delta`)
    if (rule.sign === 'nonzero' && delta === 0) problems.push(`a ${kind} must not have a zero delta`)
  }
  if (rule.reason && record.reason === undefined) problems.push(`a ${kind} needs a reason`)
  const only = (field: string, kinds: readonly string[]) => {
    const has = record[field] !== undefined
    if (kinds.includes(kind) && !has) problems.push(`a ${kind} needs ${field}`)
    if (!kinds.includes(kind) && has) problems.push(`${field} belongs only to ${kinds.join(' and ')}`)
  }
  only('counted', ['count'])
  only('expected', ['count'])
  only('transfer', ['transfer-out', 'transfer-in'])
  only('undoes', ['undo'])
  return problems
}

interface Judge {
  readonly ctx: RuleContext
  readonly out: Violation[]
}

const restoreKey = (root: string, entity: string | null, change: KeyChange): Fix => ({
  op: 'restore-key',
  root,
  entity,
  key: change.key,
  before: change.before,
})

const judgeEntity = (j: Judge, kind: EntityKind, root: string, change: EntityChange): boolean => {
  const specs = ENTITY_FIELDS[kind]
  let rejectedWhole = false
  const entry = change.entry
  if (entry) {
    const actor = j.ctx.actorOf(entry.client)
    const fix = restoreKey(root, null, entry)
    const path = `${root}/${change.id}`
    const reject = (code: ViolationCode, message: string) => {
      j.out.push({ code, message, path, fix })
      rejectedWhole = true
    }
    if (actor.kind === 'user' && actor.role === 'viewer') {
      reject('read-only', `${describeActor(actor)} may not change ${kind}s`)
    } else if (!entry.after.exists || entry.before.exists) {
      reject('entity-removed', `${kind} ${change.id} may not be removed or replaced; archive it instead`)
    } else {
      const value = entry.after.value
      if (!(value instanceof SharedValue) || value.type !== 'map' || value.fields === null) {
        reject('unknown-structure', `${kind} ${change.id} must be a map of fields`)
      } else {
        if (!ID_PATTERN.test(change.id)) reject('invalid-id', `${kind} id "${change.id.slice(0, 80)}" is not a valid id`)
        for (const [field, v] of Object.entries(value.fields)) {
          const spec = fieldSpec(specs, field)
          if (!spec) reject('unknown-field', `${kind} ${change.id} has unknown field "${field}"`)
          else {
            const problem = checkField(field, spec, v)
            if (problem) reject('invalid-field', `${kind} ${change.id}: ${problem}`)
          }
        }
        for (const [field, spec] of Object.entries(specs)) {
          if (spec.required && value.fields[field] === undefined) {
            reject('missing-field', `${kind} ${change.id} needs ${field}`)
          }
        }
      }
    }
  }
  if (rejectedWhole) return false
  for (const field of change.fields) {
    const actor = j.ctx.actorOf(field.client)
    const path = `${root}/${change.id}/${field.key}`
    const fix = restoreKey(root, change.id, field)
    const spec = fieldSpec(specs, field.key)
    if (actor.kind === 'user' && actor.role === 'viewer') {
      j.out.push({ code: 'read-only', message: `${describeActor(actor)} may not change ${kind}s`, path, fix })
    } else if (!spec) {
      if (field.after.exists) j.out.push({ code: 'unknown-field', message: `${kind} ${change.id} has unknown field "${field.key}"`, path, fix })
    } else if (!field.after.exists) {
      if (spec.required) j.out.push({ code: 'missing-field', message: `${kind} ${change.id} needs ${field.key}`, path, fix })
    } else {
      const problem = checkField(field.key, spec, field.after.value)
      if (problem) j.out.push({ code: 'invalid-field', message: `${kind} ${change.id}: ${problem}`, path, fix })
    }
  }
  for (const key of change.nested) {
    // Put back what the field held before this change wrote a shared type to it (a required field stays).
    const before = change.fields.find((f) => f.key === key)?.before ?? ABSENT
    j.out.push({
      code: 'unknown-structure',
      message: `${kind} ${change.id}: field "${key}" must hold a plain value`,
      path: `${root}/${change.id}/${key}`,
      fix: { op: 'restore-key', root, entity: change.id, key, before },
    })
  }
  return true
}

const judgeLedger = (j: Judge, changes: ChangeSet, rejectedItems: Set<string>, rejectedLocations: Set<string>) => {
  const accepted: Array<{ insert: LedgerInsert; m: Movement }> = []
  /** Records refused so far in this change: compensation removes them, so nothing may build on them. */
  const refused = new Set<unknown>()
  const reject = (insert: LedgerInsert, code: ViolationCode, message: string, id: string) => {
    refused.add(insert.record)
    j.out.push({ code, message, path: `movements/${id}`, fix: { op: 'delete-content', ref: insert.ref } })
  }

  const countIds = (records: Iterable<unknown>, field: 'id' | 'undoes') => {
    const counts = new Map<string, number>()
    for (const r of records) {
      const v = isPlainObject(r) ? r[field] : undefined
      if (typeof v === 'string') counts.set(v, (counts.get(v) ?? 0) + 1)
    }
    return counts
  }
  const idsInThisChange = countIds(changes.ledgerInserts.map((i) => i.record), 'id')
  // A record deleted and a new one with its id written: an edit in place, which the ledger forbids.
  const deletedIds = j.ctx.actorOf(null).kind === 'server' ? new Map<string, number>() : countIds(changes.ledgerDeletes, 'id')
  const newIds = new Map<string, number>()
  for (const insert of changes.ledgerInserts) {
    const actor = j.ctx.actorOf(insert.client)
    const r = insert.record
    const id = isPlainObject(r) && typeof r.id === 'string' ? r.id.slice(0, 64) : '?'
    if (actor.kind === 'user' && actor.role === 'viewer') {
      reject(insert, 'read-only', `${describeActor(actor)} may not record movements`, id)
      continue
    }
    if (!insert.plain || r instanceof SharedValue) {
      reject(insert, 'unknown-structure', 'the ledger holds plain movement records only', id)
      continue
    }
    const problems = checkMovementShape(r)
    if (problems.length > 0) {
      reject(insert, 'invalid-movement', `movement ${id}: ${problems.join('; ')}`, id)
      continue
    }
    const m = r as unknown as Movement
    if (MOVEMENT_KINDS[m.kind].serverOnly && actor.kind !== 'server') {
      reject(insert, 'server-only', `only the server records ${m.kind} movements`, id)
    } else if (actor.kind === 'user' && m.by !== actor.userId) {
      reject(insert, 'author-mismatch', `movement ${id} names ${m.by} but was written by ${actor.userId}`, id)
    } else if (!j.ctx.itemExists(m.item) || rejectedItems.has(m.item)) {
      reject(insert, 'unknown-item', `movement ${id} refers to item ${m.item}, which does not exist`, id)
    } else if (!j.ctx.locationExists(m.location) || rejectedLocations.has(m.location)) {
      reject(insert, 'unknown-location', `movement ${id} refers to location ${m.location}, which does not exist`, id)
    } else if (m.kind === 'count' && m.delta !== (m.counted ?? 0) - (m.expected ?? 0)) {
      reject(insert, 'count-mismatch', `count ${id}: delta must be counted − expected (${m.counted} − ${m.expected})`, id)
    } else {
      // A movement id may appear once: a copy of one already in the ledger, or twice in this change, is refused.
      const seen = (newIds.get(m.id) ?? 0) + 1
      newIds.set(m.id, seen)
      const total = j.ctx.movementsWithId(m.id).length
      if (deletedIds.has(m.id)) {
        reject(insert, 'ledger-changed', `movement ${id} may not be edited; record a new movement instead`, id)
      } else if (seen > 1 || total > (idsInThisChange.get(m.id) ?? 0)) {
        reject(insert, 'duplicate-movement', `movement ${id} is already in the ledger`, id)
      } else {
        accepted.push({ insert, m })
      }
    }
  }

  // Transfers: exactly one leg out and one leg in, same item, same quantity, two locations.
  const legs = new Map<string, Array<{ insert: LedgerInsert; m: Movement }>>()
  for (const a of accepted) {
    if (a.m.transfer !== undefined) legs.set(a.m.transfer, [...(legs.get(a.m.transfer) ?? []), a])
  }
  const unpaired = new Set<LedgerInsert>()
  for (const [transfer, pair] of legs) {
    const out = pair.find((p) => p.m.kind === 'transfer-out')
    const inn = pair.find((p) => p.m.kind === 'transfer-in')
    const ok =
      pair.length === 2 && out && inn &&
      out.m.item === inn.m.item && out.m.location !== inn.m.location &&
      out.m.delta === -inn.m.delta && out.m.by === inn.m.by
    if (!ok) {
      for (const p of pair) {
        unpaired.add(p.insert)
        reject(p.insert, 'unpaired-transfer', `transfer ${transfer} must be one leg out and one leg in of the same item and quantity between two locations, written together`, p.m.id)
      }
    }
  }

  // Undo: reverses one earlier movement of the same user, exactly, once.
  const undosInThisChange = countIds(
    changes.ledgerInserts.map((i) => i.record).filter((r) => isPlainObject(r) && r.kind === 'undo'),
    'undoes',
  )
  const undoSeen = new Map<string, number>()
  for (const { insert, m } of accepted) {
    if (m.kind !== 'undo' || unpaired.has(insert) || m.undoes === undefined) continue
    const target = j.ctx.movementsWithId(m.undoes).find((t) => !refused.has(t))
    let problem: string | null = null
    if (!target) problem = `movement ${m.undoes} is not in the ledger`
    else if (target.kind === 'restore') problem = 'a restore is undone by restoring the snapshot taken right before it'
    else if (target.by !== m.by) problem = `only ${target.by} may undo movement ${m.undoes}`
    else if (target.item !== m.item || target.location !== m.location || target.delta !== -m.delta) {
      problem = `an undo must reverse movement ${m.undoes} exactly (delta ${-target.delta} at the same item and location)`
    } else {
      const seen = (undoSeen.get(m.undoes) ?? 0) + 1
      undoSeen.set(m.undoes, seen)
      if (seen > 1 || j.ctx.undoesOf(m.undoes).length > (undosInThisChange.get(m.undoes) ?? 0)) problem = `movement ${m.undoes} is already undone`
    }
    if (problem) reject(insert, 'invalid-undo', `undo ${m.id}: ${problem}`, m.id)
  }

  for (const record of changes.ledgerDeletes) {
    const actor = j.ctx.actorOf(null)
    if (actor.kind === 'server') continue
    const id = isPlainObject(record) && typeof record.id === 'string' ? record.id : '?'
    j.out.push({
      code: actor.role === 'viewer' ? 'read-only' : 'ledger-changed',
      message: `movement ${id} may not be removed or changed; record a new movement instead`,
      path: `movements/${id}`,
      fix: { op: 'restore-record', record },
    })
  }
}

/** Every rule, in order: entities first, so that movements on a refused new item are refused too. */
export const validateChanges = (changes: ChangeSet, ctx: RuleContext): Violation[] => {
  const j: Judge = { ctx, out: [] }
  const rejectedItems = new Set<string>()
  const rejectedLocations = new Set<string>()
  for (const change of changes.items.values()) {
    if (!judgeEntity(j, 'item', ROOT.items, change) && !change.entry?.before.exists) rejectedItems.add(change.id)
  }
  for (const change of changes.locations.values()) {
    if (!judgeEntity(j, 'location', ROOT.locations, change) && !change.entry?.before.exists) rejectedLocations.add(change.id)
  }
  judgeLedger(j, changes, rejectedItems, rejectedLocations)
  for (const change of changes.serverKeys) {
    const actor = ctx.actorOf(change.client)
    if (actor.kind === 'server') continue
    j.out.push({
      code: actor.role === 'viewer' ? 'read-only' : 'server-only',
      message: `only the server writes ${change.root}`,
      path: `${change.root}/${change.key}`,
      fix: restoreKey(change.root, null, change),
    })
  }
  for (const stray of changes.strays) {
    j.out.push({
      code: 'unknown-structure',
      message: `nothing may be written to ${stray.where}: it is outside the schema`,
      path: stray.where,
      fix: { op: 'delete-content', ref: stray.ref },
    })
  }
  return j.out
}
