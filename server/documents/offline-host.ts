/**
 * DocumentHost straight on storage, for the CLI when no server is running: load the document,
 * run the duty, append what it changed. Not for use beside a running server (its copy in memory
 * would not see the change): the CLI talks to a running server over HTTP instead.
 */
import * as Y from 'yjs'
import { LedgerIndex } from '../../sync/ledger-index.js'
import type { Origin } from '../../sync/origin.js'
import { SERVER_USER_ID } from '../relay/types.js'
import type { Storage } from '../storage/types.js'
import type { DocumentHost, DocumentSession } from './host.js'

export class OfflineHost implements DocumentHost {
  constructor(private readonly storage: Storage) {}

  async exclusive<T>(tenant: string, fn: (session: DocumentSession) => Promise<T>): Promise<T> {
    const stored = await this.storage.loadDocument(tenant)
    const doc = new Y.Doc()
    const origin: Origin = { source: 'storage' }
    doc.transact(() => {
      if (stored.state) Y.applyUpdate(doc, stored.state, origin)
      for (const u of stored.updates) Y.applyUpdate(doc, u, origin)
    }, origin)
    const index = new LedgerIndex(doc)
    let claimed = false
    const session: DocumentSession = {
      doc,
      index,
      change: async (reason, change) => {
        const emitted: Uint8Array[] = []
        const onUpdate = (u: Uint8Array) => emitted.push(u)
        doc.on('update', onUpdate)
        let result
        try {
          result = doc.transact(() => change(doc, index), { source: 'server', reason } satisfies Origin)
        } finally {
          doc.off('update', onUpdate)
        }
        if (emitted.length > 0) {
          // Like the relay, the server's writes go under a client id claimed for the server.
          for (const client of Y.parseUpdateMeta(Y.mergeUpdates(emitted)).to.keys()) {
            if (client === doc.clientID && claimed) continue
            const owner = await this.storage.claimClientId(tenant, client, SERVER_USER_ID)
            if (owner !== SERVER_USER_ID) throw new Error(`client id ${client} is owned by ${owner}; the change was not stored`)
            if (client === doc.clientID) claimed = true
          }
          await this.storage.appendUpdate(tenant, Y.mergeUpdates(emitted))
        }
        return result
      },
    }
    try {
      return await fn(session)
    } finally {
      index.destroy()
      doc.destroy()
    }
  }
}
