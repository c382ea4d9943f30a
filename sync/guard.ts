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

/**
 * Applies `update` to `doc`, then compensates every violation. Returns the violations.
 *
 * The whole update is decoded first, and one that does not decode throws before anything is
 * applied: Yjs integrates an update's structs before it reads its delete set, so a frame cut short
 * in its delete set would otherwise leave its content in the document, judged by nobody
 * ([FUZZ-PROTO-2]).
 */
export const applyGuarded = (doc: Y.Doc, index: LedgerIndex, update: Uint8Array, options: GuardOptions): Violation[] => {
  Y.decodeUpdate(update)
  const sets = captureChanges(doc, () => Y.applyUpdate(doc, update, options.origin))
  if (sets.length === 0) return []
  const ctx = ruleContext(doc, index, options.actorOf)
  const violations = sets.flatMap((changes) => validateChanges(changes, ctx))
  compensate(doc, violations, { source: 'server', reason: 'compensation' })
  return violations
}

/**
 * What `update` needs first that `doc` does not have yet (null: nothing), so that it must wait:
 * - content that builds on content of its sender that is not here yet. Yjs would hold such content
 *   back but apply the update's deletions at once, so a rename would be judged as the removal of a
 *   required field ([VAL-17]);
 * - a deletion of content that is not here yet. Yjs would keep it pending and apply it to that
 *   content when it arrives, in someone else's change, where no rule judges it: a forged delete
 *   set naming another device's future clocks silently erased its next movements ([VAL-18],
 *   [FUZZ-PROTO-3]).
 * - content placed next to, or inside, another device's content that is not here yet. Yjs would
 *   keep it pending and integrate it with whichever change brings that content, where its own
 *   sender is not judged: a peer's update (applied without rules) or the compaction of the
 *   document in memory would let it through unjudged ([VAL-19]).
 * Throws if the update does not decode.
 */
export const missingPredecessors = (doc: Y.Doc, update: Uint8Array): WaitsFor | null => {
  const { structs, ds } = Y.decodeUpdate(update)
  // Structs come grouped by client, each group in clock order.
  const to = new Map<number, number>()
  for (const s of structs) {
    const client = s.id.client
    if (!to.has(client) && s.id.clock > Y.getState(doc.store, client)) return { client, state: s.id.clock }
    to.set(client, s.id.clock + s.length)
  }
  const known = (client: number): number => Math.max(Y.getState(doc.store, client), to.get(client) ?? 0)
  const missing = (id: Y.ID | null): id is Y.ID => id !== null && id.clock >= known(id.client)
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue
    for (const id of [s.origin, s.rightOrigin, s.parent instanceof Y.ID ? s.parent : null]) {
      if (missing(id)) return { client: id.client, state: id.clock + 1 }
    }
  }
  for (const [client, ranges] of ds.clients) {
    for (const r of ranges) if (r.clock + r.len > known(client)) return { client, state: r.clock + r.len }
  }
  return null
}

/** What a held update waits for first: the document's state of `client` to reach `state`. */
export interface WaitsFor {
  readonly client: number
  readonly state: number
}

/** An update in an inbox, and what it waits for first (updated as that arrives). */
interface Held {
  readonly update: Uint8Array
  waitsFor: WaitsFor
}

export class TooManyHeldUpdates extends Error {
  override readonly name = 'TooManyHeldUpdates'
}

/**
 * The updates of one sender, applied in an order the rules can judge: an update that builds on
 * something not here yet waits until it arrives (a y-websocket client may send a fresh edit before
 * its sync step 2 after a reconnect), then goes through applyGuarded like any other.
 */
export class GuardedInbox {
  private readonly held: Held[] = []
  private heldBytes = 0

  constructor(
    private readonly doc: Y.Doc,
    private readonly index: LedgerIndex,
    private readonly options: GuardOptions,
    /** Bytes that may wait; more means the sender will never fill its gap. @default 16 MiB */
    private readonly maxHeldBytes = 16 * 1024 * 1024,
  ) {}

  get heldCount(): number {
    return this.held.length
  }

  /** Applies what can be applied now; returns the violations of everything applied. */
  receive(update: Uint8Array): Violation[] {
    return [...this.accept(update), ...this.release()]
  }

  /**
   * Applies `update` now, or holds it until what it waits for is here (returning no violations);
   * nothing held is released. Throws TooManyHeldUpdates when the held updates grow past the limit.
   */
  accept(update: Uint8Array): Violation[] {
    const waitsFor = missingPredecessors(this.doc, update)
    if (waitsFor) {
      this.held.push({ update, waitsFor })
      this.heldBytes += update.length
      if (this.heldBytes > this.maxHeldBytes) {
        throw new TooManyHeldUpdates(`${this.heldBytes} bytes of updates wait for content that never arrived`)
      }
      return []
    }
    return applyGuarded(this.doc, this.index, update, this.options)
  }

  /**
   * Applies what was held and can go now, in arrival order, until nothing more can; returns the
   * violations of what it applied. Call it whenever the document gained content by another way
   * (another connection, another instance): what a held update waits for may be there now.
   */
  release(): Violation[] {
    const violations: Violation[] = []
    for (let next = this.releaseNext(); next !== null; next = this.releaseNext()) violations.push(...next)
    return violations
  }

  /**
   * Applies the first held update (in arrival order) that can go now and returns its violations;
   * null when none can. The update leaves the inbox before it is applied, so one that Yjs cannot
   * apply (the call throws) is not tried again. An update is decoded again only once what it waited
   * for first has arrived, so calling this often costs little while nothing it waits for arrives.
   */
  releaseNext(): Violation[] | null {
    for (const [i, next] of this.held.entries()) {
      if (Y.getState(this.doc.store, next.waitsFor.client) < next.waitsFor.state) continue
      const waitsFor = missingPredecessors(this.doc, next.update)
      if (waitsFor) {
        next.waitsFor = waitsFor
        continue
      }
      this.held.splice(i, 1)
      this.heldBytes -= next.update.length
      return applyGuarded(this.doc, this.index, next.update, this.options)
    }
    return null
  }
}
