/** The relay's typed hooks and settings: what storage, auth and derived duties plug into. */
import type * as Y from 'yjs'
import type { LedgerIndex } from '../../sync/ledger-index.js'
import type { Role } from '../../sync/origin.js'
import type { CloseName } from '../../sync/protocol.js'
import type { StoredDocument } from '../storage/types.js'

/** Who is on the other end of a connection, as the token and the store say. */
export interface Session {
  readonly tenant: string
  readonly userId: string
  readonly username: string
  readonly name: string
  readonly role: Role
}

/** Thrown by `authenticate` to refuse a connection with a named close code. */
export class ConnectionRefused extends Error {
  override readonly name = 'ConnectionRefused'
  constructor(
    readonly close: CloseName,
    message: string,
  ) {
    super(message)
  }
}

/** Owner id under which the server claims the Yjs client ids it writes with. */
export const SERVER_USER_ID = '@server'

export interface ChangeEvent {
  readonly tenant: string
  readonly doc: Y.Doc
  readonly index: LedgerIndex
  /** Items whose stock or fields changed in this step. */
  readonly changedItems: ReadonlySet<string>
}

export interface RelayHooks {
  /** Checks the token for this tenant; throws ConnectionRefused to refuse. */
  authenticate(tenant: string, token: string | null): Promise<Session>
  load(tenant: string): Promise<StoredDocument>
  /** Appends one update durably; resolves with its sequence number. */
  store(tenant: string, update: Uint8Array): Promise<number>
  compact(tenant: string, state: Uint8Array, throughSeq: number): Promise<void>
  /** First writer wins: resolves to the owner of the client id after the claim. */
  claimClientId(tenant: string, clientId: number, userId: string): Promise<string>
  /** After each stored step that changed items (alerts derive from this). Must not throw. */
  changed?(event: ChangeEvent): void
}

export interface RelayLimits {
  /** Largest WebSocket frame; a bigger one closes that connection with 1009. @default 8 MiB */
  readonly maxFrameBytes: number
  /** Bytes a connection may send before authentication completes. @default 64 KiB */
  readonly maxUnauthenticatedBytes: number
  /** Sustained document updates per second per connection; faster senders are throttled. @default 200 */
  readonly updatesPerSecond: number
  /** Updates a connection may send at once before throttling starts. @default 400 */
  readonly updateBurst: number
  /** Stored bytes per tenant document; an update beyond it is refused. @default 256 MiB */
  readonly maxDocumentBytes: number
  /** Open connections per user (all tenants' devices of one user). @default 20 */
  readonly maxConnectionsPerUser: number
  /** An awareness (presence) state larger than this is dropped. @default 4 KiB */
  readonly maxAwarenessStateBytes: number
  /** A document with no connection is compacted and unloaded after this long. @default 60 s */
  readonly idleUnloadMs: number
  /** The update log is compacted into one state after this many appends. @default 500 */
  readonly compactEveryUpdates: number
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxUnauthenticatedBytes: 64 * 1024,
  updatesPerSecond: 200,
  updateBurst: 400,
  maxDocumentBytes: 256 * 1024 * 1024,
  maxConnectionsPerUser: 20,
  maxAwarenessStateBytes: 4 * 1024,
  idleUnloadMs: 60_000,
  compactEveryUpdates: 500,
}
