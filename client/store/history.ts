/**
 * An item's movement history: the recent part comes from the document (the live ledger); older
 * pages come from the server when online and are kept in Dexie for offline reading. Today the
 * server's history is the live ledger too (docs/SCHEMA.md, Compaction); once it folds, the older
 * pages are the only place the folded movements can be read.
 */
import type { LedgerIndex } from '../../sync/ledger-index.js'
import type { Movement } from '../../sync/schema.js'
import type { TenantApi } from './api.js'
import type { UserDb } from './databases.js'

const newestFirst = (a: Movement, b: Movement): number => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** The document's movements and the cached ones, each once, newest first. */
export const mergeHistory = (live: readonly Movement[], cached: readonly Movement[]): Movement[] => {
  const byId = new Map<string, Movement>()
  for (const m of cached) byId.set(m.id, m)
  for (const m of live) byId.set(m.id, m)
  return [...byId.values()].sort(newestFirst)
}

export interface StockPoint {
  readonly at: number
  readonly onHand: number
}

/**
 * On-hand over time from the movements known here (newest first) and the on-hand now: it starts at
 * what the known movements do not explain (a baseline, or history not loaded) and steps at each.
 */
export const stockSeries = (movements: readonly Movement[], onHandNow: number, now: number): StockPoint[] => {
  const oldestFirst = [...movements].reverse()
  let level = onHandNow - oldestFirst.reduce((sum, m) => sum + m.delta, 0)
  const first = oldestFirst[0]
  const points: StockPoint[] = first ? [{ at: first.at, onHand: level }] : []
  for (const m of oldestFirst) {
    level += m.delta
    points.push({ at: m.at, onHand: level })
  }
  points.push({ at: Math.max(now, first?.at ?? now), onHand: onHandNow })
  return points
}

export class ItemHistory {
  constructor(
    private readonly db: UserDb,
    private readonly api: TenantApi,
    private readonly index: LedgerIndex,
  ) {}

  async read(item: string): Promise<Movement[]> {
    const cached = await this.db.history.where('[item+at]').between([item, -Infinity], [item, Infinity]).toArray()
    return mergeHistory(this.index.movementsOf(item), cached.map((c) => c.record))
  }

  /**
   * Asks the server for the page before the oldest movement known here, and keeps it. Resolves to
   * how many movements were new to this device and whether the server has more.
   */
  async loadOlder(item: string, known: readonly Movement[]): Promise<{ added: number; more: boolean }> {
    const oldest = known[known.length - 1]
    const page = await this.api.movements(item, oldest ? `${oldest.at}:${oldest.id}` : null)
    const ids = new Set(known.map((m) => m.id))
    const fresh = page.movements.filter((m) => !ids.has(m.id))
    await this.db.history.bulkPut(page.movements.map((m) => ({ id: m.id, item: m.item, at: m.at, record: m })))
    return { added: fresh.length, more: page.next !== null }
  }
}
