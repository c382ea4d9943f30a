/**
 * Keeps the tabs of one browser in step for one tenant and user: a BroadcastChannel named after
 * both (y-websocket's own channel is keyed by URL and room, i.e. by tenant only, and would mix two
 * people's changes, which the server refuses: docs/PROTOCOL.md, client-id-owned). A tab that opens
 * asks the others for what it lacks (sync step 1 and 2 of y-protocols); after that each tab sends
 * the changes made in it.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { isOrigin } from '../../sync/origin.js'

/** The transaction origin of changes that came from another tab. */
export const TAB_ORIGIN = { source: 'connection', connectionId: 'tab' } as const

export const tabChannelName = (tenant: string, userId: string): string => `qm-tabs:${tenant}:${userId}`

export class TabSync {
  private readonly channel: BroadcastChannel
  private readonly onUpdate = (update: Uint8Array, origin: unknown) => {
    // Only what this tab wrote: the others get the server's updates over their own connection.
    if (isOrigin(origin) && origin.source === 'local') this.post((e) => syncProtocol.writeUpdate(e, update))
  }

  constructor(
    private readonly doc: Y.Doc,
    name: string,
  ) {
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = (event: MessageEvent<unknown>) => this.receive(event.data)
    doc.on('update', this.onUpdate)
    this.post((e) => syncProtocol.writeSyncStep1(e, doc))
  }

  private post(write: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder()
    write(e)
    this.channel.postMessage(encoding.toUint8Array(e))
  }

  private receive(data: unknown): void {
    if (!(data instanceof Uint8Array)) return
    const reply = encoding.createEncoder()
    syncProtocol.readSyncMessage(decoding.createDecoder(data), reply, this.doc, TAB_ORIGIN)
    if (encoding.length(reply) > 0) this.channel.postMessage(encoding.toUint8Array(reply))
  }

  destroy(): void {
    this.doc.off('update', this.onUpdate)
    this.channel.close()
  }
}
