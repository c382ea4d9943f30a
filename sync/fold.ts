/**
 * Compaction of the ledger: fold old movements into baselines. A server duty, run by one writer per
 * document; it lives here because it is a pure change of the document that every test can run.
 *
 * One transaction deletes the folded movements and adds their sum to each item+location baseline,
 * so on-hand never changes. Movements made offline concurrently with a fold are not in it and stay
 * on top of the new baseline, so sums stay exact on every replica.
 */
import type * as Y from 'yjs'
import type { Origin } from './origin.js'
import { ROOT, baselineKey } from './schema.js'
import type { Movement } from './schema.js'

export interface FoldResult {
  /** The movements removed from the document, for the server's history store. */
  readonly folded: Movement[]
  /** The baselines written, by key. */
  readonly baselines: ReadonlyMap<string, number>
}

/** Folds every well-formed movement with `at` before `before` (ms since 1970). */
export const foldLedger = (doc: Y.Doc, before: number, origin: Origin): FoldResult => {
  const movements = doc.getArray<unknown>(ROOT.movements)
  const baselines = doc.getMap<unknown>(ROOT.baselines)
  const folded: Movement[] = []
  const sums = new Map<string, number>()
  const positions: number[] = []
  movements.toArray().forEach((r, i) => {
    const m = r as Movement
    if (
      typeof m === 'object' && m !== null && typeof m.at === 'number' && m.at < before &&
      typeof m.item === 'string' && typeof m.location === 'string' && Number.isSafeInteger(m.delta)
    ) {
      folded.push(m)
      positions.push(i)
      const key = baselineKey(m.item, m.location)
      sums.set(key, (sums.get(key) ?? 0) + m.delta)
    }
  })
  const written = new Map<string, number>()
  if (folded.length === 0) return { folded, baselines: written }
  doc.transact(() => {
    // Delete runs of neighbouring positions from the end, so earlier positions stay valid.
    let end = positions.length - 1
    while (end >= 0) {
      let start = end
      while (start > 0 && positions[start - 1] === (positions[start] as number) - 1) start--
      movements.delete(positions[start] as number, end - start + 1)
      end = start - 1
    }
    for (const [key, sum] of sums) {
      const old = baselines.get(key)
      const value = (typeof old === 'number' ? old : 0) + sum
      baselines.set(key, value)
      written.set(key, value)
    }
  }, origin)
  return { folded, baselines: written }
}
