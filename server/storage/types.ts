/**
 * The storage boundary. One interface, implemented by SQLite (embedded default), in-memory (tests),
 * and later Postgres; one contract suite (server/storage/contract.ts) runs against each.
 *
 * All methods are async so that network databases fit behind the same interface. An implementation
 * never does async work inside a database transaction.
 */
import type { Role } from '../../sync/origin.js'
import type { AlertStore, WebhookStore } from './alert-types.js'
import type { AuditStore, SnapshotStore } from './snapshot-types.js'

export interface TenantRecord {
  readonly id: string
  readonly name: string
  readonly createdAt: number
}

export interface UserRecord {
  readonly id: string
  readonly tenant: string
  readonly username: string
  readonly name: string
  readonly role: Role
  /** scrypt hash in the form produced by server/auth/passwords.ts */
  readonly passwordHash: string
  readonly createdAt: number
}

/** The stored form of one tenant document: an optional compacted state and the updates after it. */
export interface StoredDocument {
  /** Merged state of everything up to `compactedThrough`, or null if never compacted. */
  readonly state: Uint8Array | null
  /** Updates appended after the compacted state, in append order. */
  readonly updates: readonly Uint8Array[]
  /** Sequence number of the last update folded into `state` (0 if none). */
  readonly compactedThrough: number
  /** Sequence number of the last update appended (0 if none). */
  readonly lastSeq: number
}

export interface DocumentStore {
  loadDocument(tenant: string): Promise<StoredDocument>
  /** Appends one update; resolves only once it is durable. Returns its sequence number. */
  appendUpdate(tenant: string, update: Uint8Array): Promise<number>
  /** Replaces every update with seq ≤ `throughSeq` by `state` (which must contain them all). */
  compactDocument(tenant: string, state: Uint8Array, throughSeq: number): Promise<void>
  /** Total bytes stored for the tenant's document (state + updates). */
  documentSize(tenant: string): Promise<number>
}

export interface DirectoryStore {
  createTenant(tenant: { id: string; name: string }): Promise<TenantRecord>
  getTenant(id: string): Promise<TenantRecord | undefined>
  listTenants(): Promise<TenantRecord[]>
  createUser(user: { tenant: string; username: string; name: string; role: Role; passwordHash: string }): Promise<UserRecord>
  getUserByName(tenant: string, username: string): Promise<UserRecord | undefined>
  getUser(tenant: string, id: string): Promise<UserRecord | undefined>
  listUsers(tenant: string): Promise<UserRecord[]>
  setUserRole(tenant: string, username: string, role: Role): Promise<void>
  setUserPassword(tenant: string, username: string, passwordHash: string): Promise<void>
  removeUser(tenant: string, username: string): Promise<void>
  /**
   * Claims a Yjs client id for a user: the first user to write with a client id owns it.
   * Resolves to the owner's user id (the caller's if the claim succeeded or it already owned it).
   */
  claimClientId(tenant: string, clientId: number, userId: string): Promise<string>
  /** Owners of the given client ids that are claimed (unclaimed ids are absent from the map). */
  clientIdOwners(tenant: string, clientIds: readonly number[]): Promise<Map<number, string>>
}

export interface Storage extends DocumentStore, DirectoryStore, SnapshotStore, AuditStore, AlertStore, WebhookStore {
  /** A short name for logs and metrics: 'sqlite', 'memory', 'postgres'. */
  readonly kind: string
  close(): Promise<void>
}

/** A named storage failure; callers keep the data in memory and refuse to acknowledge durability. */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  constructor(
    readonly code: 'not-found' | 'conflict' | 'unavailable' | 'invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
