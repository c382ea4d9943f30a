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
  /**
   * When the credentials behind this session expire (ms since 1970): the connection is closed with
   * 4440 then, so a role change or a removal reaches open connections within one token lifetime.
   */
  readonly expiresAt?: number
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

/** Limits the relay enforces per connection and per tenant document; env variables in server/config.ts. */
export interface RelayLimits {
  /**
   * Largest WebSocket frame; a bigger one closes that connection with 1009 (MAX_FRAME_BYTES).
   * @default 8 MiB — sync step 2 from a device that was offline for days carries all of its changes
   * in one message; much larger than this is a bug or an attack.
   */
  readonly maxFrameBytes: number
  /**
   * Bytes a connection may send before its authentication completes (MAX_UNAUTHENTICATED_BYTES).
   * @default 64 KiB — an anonymous socket must not make the server buffer much.
   */
  readonly maxUnauthenticatedBytes: number
  /**
   * Sustained document updates per second per connection (MAX_UPDATES_PER_SECOND); a faster sender
   * is throttled (its socket paused), not disconnected.
   * @default 200 — a fast scanner makes a few changes a second; a runaway client makes thousands.
   */
  readonly updatesPerSecond: number
  /**
   * Updates a connection may send at once above the sustained rate (UPDATE_BURST).
   * @default 400 — a reconnecting device flushes its queue in a burst.
   */
  readonly updateBurst: number
  /**
   * Stored bytes per tenant document; an update beyond it is refused and its sender closed with
   * 4413 (MAX_DOCUMENT_BYTES).
   * @default 256 MiB — one tenant must not fill the disk or the server's memory.
   */
  readonly maxDocumentBytes: number
  /**
   * Open connections per user (MAX_CONNECTIONS_PER_USER); one more is closed with 4429.
   * @default 20 — a user has a few devices and tabs; more is a leak or a stolen token.
   */
  readonly maxConnectionsPerUser: number
  /**
   * An awareness (presence) state larger than this is dropped (MAX_AWARENESS_STATE_BYTES).
   * @default 4 KiB — presence is a name and a cursor, not a document.
   */
  readonly maxAwarenessStateBytes: number
  /**
   * A document with no connection is compacted and unloaded after this long (IDLE_UNLOAD_SECONDS).
   * @default 60 s — long enough to ride out a flaky reconnect, short enough to free idle tenants.
   */
  readonly idleUnloadMs: number
  /**
   * The update log is compacted into one state after this many appends (COMPACT_EVERY_UPDATES).
   * @default 500 — keeps load time and the update log small without compacting on every write.
   */
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
