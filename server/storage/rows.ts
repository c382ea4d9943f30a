/**
 * Row shapes and their mapping to records, shared by the SQL stores (SQLite and Postgres read the
 * same columns back). Where the two drivers differ (a JSON column comes back as text from SQLite
 * and parsed from Postgres), the caller passes the decoded value in.
 */
import type { Role } from '../../sync/origin.js'
import type { AlertDetail, AlertKind, AlertSeverity } from '../../sync/alerts.js'
import type { AlertRecord, AlertStatus, DeliveryAttempt, WebhookRecord } from './alert-types.js'
import type { SnapshotMeta, SnapshotTrigger } from './snapshot-types.js'
import type { TenantRecord, UserRecord } from './types.js'

export interface TenantRow {
  id: string
  name: string
  created_at: number
}
export const toTenant = (row: TenantRow): TenantRecord => ({ id: row.id, name: row.name, createdAt: row.created_at })

export interface UserRow {
  id: string
  tenant: string
  username: string
  name: string
  role: Role
  password_hash: string
  created_at: number
}
export const USER_COLUMNS = 'id, tenant, username, name, role, password_hash, created_at'
export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  tenant: row.tenant,
  username: row.username,
  name: row.name,
  role: row.role,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
})

export interface DocumentRow {
  state: Buffer | null
  compacted_through: number
  last_seq: number
}

/** A plain Uint8Array view of a Buffer the driver returned (no copy). */
export const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)

export interface SnapshotRow {
  id: string
  tenant: string
  created_at: number
  trigger: SnapshotTrigger
  created_by: string | null
  reason: string
  item_count: number
  total_units: number
  byte_size: number
}
export const SNAPSHOT_META_COLUMNS = 'id, tenant, created_at, trigger, created_by, reason, item_count, total_units, byte_size'
export const toSnapshotMeta = (r: SnapshotRow): SnapshotMeta => ({
  id: r.id,
  tenant: r.tenant,
  createdAt: r.created_at,
  trigger: r.trigger,
  createdBy: r.created_by,
  reason: r.reason,
  itemCount: r.item_count,
  totalUnits: r.total_units,
  byteSize: r.byte_size,
})

/** `D` is how the driver returns the detail column: text (SQLite) or parsed JSON (Postgres). */
export interface AlertRow<D> {
  id: string
  tenant: string
  key: string
  kind: AlertKind
  severity: AlertSeverity
  item: string
  location: string | null
  sku: string
  detail: D
  status: AlertStatus
  opened_at: number
  resolved_at: number | null
  acknowledged_at: number | null
  acknowledged_by: string | null
}
export const toAlert = <D>(r: AlertRow<D>, detail: AlertDetail): AlertRecord => ({
  id: r.id,
  tenant: r.tenant,
  key: r.key,
  kind: r.kind,
  severity: r.severity,
  item: r.item,
  location: r.location,
  sku: r.sku,
  detail,
  status: r.status,
  openedAt: r.opened_at,
  resolvedAt: r.resolved_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
})

export interface WebhookRow {
  id: string
  tenant: string
  url: string
  secret: string
  created_at: number
  created_by: string | null
}
export const toWebhook = (r: WebhookRow): WebhookRecord => ({ id: r.id, tenant: r.tenant, url: r.url, secret: r.secret, createdAt: r.created_at, createdBy: r.created_by })

export interface AttemptRow {
  attempt: number
  at: number
  status_code: number | null
  error: string | null
  duration_ms: number
}
export const toAttempt = (r: AttemptRow): DeliveryAttempt => ({ attempt: r.attempt, at: r.at, statusCode: r.status_code, error: r.error, durationMs: r.duration_ms })
