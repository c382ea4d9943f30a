/** Helpers for tests that sync Y.Docs directly, without a network. */
import * as Y from 'yjs'

/** Brings `to` up to date with everything `from` has. */
export const pull = (to: Y.Doc, from: Y.Doc, origin: unknown = 'test-sync'): void => {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), origin)
}

/** Full exchange between every pair until all have everything. */
export const syncAll = (...docs: Y.Doc[]): void => {
  for (const a of docs) for (const b of docs) if (a !== b) pull(b, a)
}

/** Records every update a doc emits, so tests can deliver them later, in any order, or twice. */
export const recordUpdates = (doc: Y.Doc): Uint8Array[] => {
  const log: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => log.push(u))
  return log
}

/** The same document with a fresh client id, as a second device would have after syncing. */
export const fork = (doc: Y.Doc): Y.Doc => {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}
