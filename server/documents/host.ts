/**
 * Exclusive access to one tenant's document for the server's own duties (snapshots, restore,
 * imports). In the running server the relay provides it (the tenant's room queue, and changes reach
 * every connected device); without a server, OfflineHost loads the document from storage.
 */
import type * as Y from 'yjs'
import type { LedgerIndex } from '../../sync/ledger-index.js'
import type { Origin } from '../../sync/origin.js'

export type ServerReason = Extract<Origin, { source: 'server' }>['reason']

export interface DocumentSession {
  readonly doc: Y.Doc
  readonly index: LedgerIndex
  /** Makes a change as the server: applied in one transaction, stored, and relayed when live. */
  change<T>(reason: ServerReason, fn: (doc: Y.Doc, index: LedgerIndex) => T): Promise<T>
}

export interface DocumentHost {
  /** Runs `fn` with the tenant's document; no other change lands while it runs. */
  exclusive<T>(tenant: string, fn: (session: DocumentSession) => Promise<T>): Promise<T>
}
