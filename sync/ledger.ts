/** Writing to the ledger. */
import type * as Y from 'yjs'
import './yjs-runs.js'

/**
 * Appends records to the end of the ledger. `insert(length)` rather than `push`: Yjs 13.6's push
 * walks the list from its start on every call, while insert keeps a search marker near the end, so
 * appends stay cheap until the next remote update (bench/RESULTS.md, doc-scale: 67–102 µs at 100k
 * movements with push, 21–31 µs with a marker).
 */
export const appendToLedger = <T>(ledger: Y.Array<T>, records: T[]): void => {
  ledger.insert(ledger.length, records)
}
