/**
 * "All changes saved" or "N changes waiting": every local transaction is kept in the user's
 * database with the Yjs client id it was written with and that client's clock just after it. The
 * server's `durable` message carries the state vector it has stored; a change is saved once that
 * covers its clock (docs/PROTOCOL.md, message 100). The list survives reloads, and every tab of the
 * user shares it, so a change made offline yesterday still counts until the server has it.
 */
import * as Y from 'yjs'
import type { ChangeSet } from '../../sync/changes.js'
import type { Movement } from '../../sync/schema.js'
import type { PendingChange, UserDb } from './databases.js'

/** This document's clock for its current client id: what the next durable must reach. */
export const ownClock = (doc: Y.Doc): number => Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0

export const isCovered = (change: Pick<PendingChange, 'clientId' | 'clock'>, durable: ReadonlyMap<number, number>): boolean =>
  (durable.get(change.clientId) ?? 0) >= change.clock

const isMovement = (r: unknown): r is Movement =>
  typeof r === 'object' && r !== null && typeof (r as Movement).kind === 'string' && typeof (r as Movement).item === 'string'

/** Says what a local transaction did, in the warehouse's words. */
export const describeChange = (changes: ChangeSet, skuOf: (item: string) => string): string => {
  const records = changes.ledgerInserts.map((r) => r.record).filter(isMovement)
  const first = records[0]
  if (first) {
    if (records.length === 2 && first.transfer !== undefined && records[1]?.transfer === first.transfer) {
      return `transfer ${Math.abs(first.delta)} × ${skuOf(first.item)}`
    }
    if (records.length === 1) {
      const amount = first.kind === 'count' ? `${first.counted ?? 0} counted` : `${Math.abs(first.delta)}`
      return `${first.kind} ${amount} × ${skuOf(first.item)}`
    }
    return `${records.length} movements`
  }
  const [itemId, item] = [...changes.items.entries()][0] ?? []
  if (itemId !== undefined && item) return item.entry ? `new item ${skuOf(itemId)}` : `edit ${skuOf(itemId)}`
  if (changes.locations.size > 0) return 'location change'
  return 'change'
}

export interface PendingSummary {
  readonly count: number
  /** Items with a change still waiting: their rows get a mark. */
  readonly items: ReadonlySet<string>
  readonly oldestAt: number | null
}

export const summarize = (rows: readonly PendingChange[]): PendingSummary => ({
  count: rows.length,
  items: new Set(rows.flatMap((r) => r.items)),
  oldestAt: rows.reduce<number | null>((min, r) => (min === null || r.at < min ? r.at : min), null),
})

export class PendingTracker {
  constructor(private readonly db: UserDb) {}

  /** Records a local transaction. Call it synchronously after the transaction, so the clock is its own. */
  async record(doc: Y.Doc, label: string, items: readonly string[], now: number): Promise<void> {
    await this.db.pending.add({ clientId: doc.clientID, clock: ownClock(doc), at: now, label, items: [...items] })
  }

  /** Drops every change the durable state vector covers; resolves to how many were dropped. */
  async acknowledge(durable: ReadonlyMap<number, number>): Promise<number> {
    return this.db.transaction('rw', this.db.pending, async () => {
      const covered = (await this.db.pending.toArray()).filter((r) => isCovered(r, durable)).flatMap((r) => (r.seq === undefined ? [] : [r.seq]))
      await this.db.pending.bulkDelete(covered)
      return covered.length
    })
  }

  list(): Promise<PendingChange[]> {
    return this.db.pending.orderBy('seq').toArray()
  }
}
