/**
 * Apply an update, judge what it changed, and undo what breaks a rule, in one step. The server
 * runs every update from a connection through this; tests run hostile updates through it.
 */
import * as Y from 'yjs'
import { captureChanges } from './changes.js'
import { compensate } from './compensate.js'
import type { LedgerIndex } from './ledger-index.js'
import type { Actor, Origin } from './origin.js'
import { validateChanges } from './rules.js'
import type { RuleContext, Violation } from './rules.js'
import { ROOT } from './schema.js'

export const ruleContext = (doc: Y.Doc, index: LedgerIndex, actorOf: (client: number | null) => Actor): RuleContext => {
  const items = doc.getMap<unknown>(ROOT.items)
  const locations = doc.getMap<unknown>(ROOT.locations)
  return {
    actorOf,
    itemExists: (id) => items.get(id) instanceof Y.Map,
    locationExists: (id) => locations.get(id) instanceof Y.Map,
    movementsWithId: (id) => index.movementsWithId(id),
    undoesOf: (id) => index.undoesOf(id),
  }
}

export interface GuardOptions {
  /** Origin of the applied update, e.g. `{ source: 'connection', connectionId }`. */
  readonly origin: Origin
  /** Who wrote with each Yjs client id; `null` stands for the connection (deletions carry no author). */
  readonly actorOf: (client: number | null) => Actor
}

/** Applies `update` to `doc`, then compensates every violation. Returns the violations. */
export const applyGuarded = (doc: Y.Doc, index: LedgerIndex, update: Uint8Array, options: GuardOptions): Violation[] => {
  const sets = captureChanges(doc, () => Y.applyUpdate(doc, update, options.origin))
  if (sets.length === 0) return []
  const ctx = ruleContext(doc, index, options.actorOf)
  const violations = sets.flatMap((changes) => validateChanges(changes, ctx))
  compensate(doc, violations, { source: 'server', reason: 'compensation' })
  return violations
}
