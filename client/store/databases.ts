/**
 * Dexie holds what is not CRDT state. Two kinds of database:
 *
 * - `qm-device`: one per browser profile: who is signed in (the session) and device settings.
 * - `qm-data:<tenant>:<userId>`: one per tenant and user, beside the document's own y-indexeddb
 *   database `qm:<tenant>:<userId>`: the local changes not yet durable on the server, what the server
 *   refused, cached movement history and alerts, and the list view's rows (so the list shows before
 *   the document has loaded). A second person on a shared device gets databases of their own.
 */
import { Dexie } from 'dexie'
import type { EntityTable } from 'dexie'
import type { AlertRecordJson } from './api.js'
import type { Movement } from '../../sync/schema.js'
import type { StockStatus } from '../../sync/status.js'
import type { Session } from './session.js'

export interface StoredSession {
  /** Always 'current': one signed-in session per device. */
  readonly key: 'current'
  readonly session: Session
}

export interface Setting {
  readonly key: string
  readonly value: unknown
}

export class DeviceDb extends Dexie {
  sessions!: EntityTable<StoredSession, 'key'>
  settings!: EntityTable<Setting, 'key'>

  constructor(name = 'qm-device') {
    super(name)
    this.version(1).stores({ sessions: 'key', settings: 'key' })
  }
}

/** One local transaction the server has not yet said it stored (docs/PROTOCOL.md, durable). */
export interface PendingChange {
  readonly seq?: number
  /** The Yjs client id the change was written with, and this client's clock just after it. */
  readonly clientId: number
  readonly clock: number
  readonly at: number
  /** What it was, for people: "pick 2 × BOLT-10". */
  readonly label: string
  /** Items it touched, to mark their rows as waiting. */
  readonly items: readonly string[]
}

/** Something the server refused from this user's changes, with its reason (message `rejected`). */
export interface RejectedEntry {
  readonly seq?: number
  readonly at: number
  readonly code: string
  readonly message: string
  readonly path: string
}

/** A movement fetched from the server's history, kept for offline reading. */
export interface CachedMovement {
  readonly id: string
  readonly item: string
  readonly at: number
  readonly record: Movement
}

/** One row of the inventory list as last derived from the document (kept in meta `list`). */
export interface ListRow {
  readonly id: string
  readonly sku: string
  readonly name: string
  readonly barcode: string
  readonly unit: string
  readonly onHand: number
  readonly status: StockStatus
  readonly archived: boolean
  /** Locations where the item has non-zero stock. */
  readonly locations: readonly string[]
}

export interface CachedAlert {
  readonly id: string
  readonly openedAt: number
  readonly record: AlertRecordJson
}

export interface MetaEntry {
  readonly key: string
  readonly value: unknown
}

export class UserDb extends Dexie {
  pending!: EntityTable<PendingChange, 'seq'>
  rejected!: EntityTable<RejectedEntry, 'seq'>
  history!: EntityTable<CachedMovement, 'id'>
  alerts!: EntityTable<CachedAlert, 'id'>
  meta!: EntityTable<MetaEntry, 'key'>

  constructor(tenant: string, userId: string) {
    super(userDbName(tenant, userId))
    this.version(1).stores({
      pending: '++seq, clientId',
      rejected: '++seq',
      history: 'id, [item+at]',
      alerts: 'id, openedAt',
      meta: 'key',
    })
  }

  async getMeta<T>(key: string, check: (v: unknown) => v is T): Promise<T | undefined> {
    const entry = await this.meta.get(key)
    return entry !== undefined && check(entry.value) ? entry.value : undefined
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.meta.put({ key, value })
  }
}

/** The document's y-indexeddb database: one per tenant and user. */
export const docDbName = (tenant: string, userId: string): string => `qm:${tenant}:${userId}`
export const userDbName = (tenant: string, userId: string): string => `qm-data:${tenant}:${userId}`
