/**
 * Alerts with their history, and webhooks with their delivery log: the storage side of alerts.
 * Plain records and plain operations, so that every implementation (SQLite, memory, Postgres) can
 * keep the same guarantees; server/storage/contract-alerts.ts holds them to account.
 */
import type { AlertDetail, AlertKind, AlertSeverity } from '../../sync/alerts.js'

export type AlertStatus = 'open' | 'resolved'
/** What a list asks for: open alerts, resolved ones, or all. */
export type AlertFilter = AlertStatus | 'all'

export interface NewAlert {
  readonly tenant: string
  /** The condition key (`low_stock:<item>`, …): at most one open alert per tenant and key. */
  readonly key: string
  readonly kind: AlertKind
  readonly severity: AlertSeverity
  readonly item: string
  readonly location: string | null
  readonly sku: string
  readonly detail: AlertDetail
}

export interface AlertRecord extends NewAlert {
  readonly id: string
  readonly status: AlertStatus
  readonly openedAt: number
  readonly resolvedAt: number | null
  readonly acknowledgedAt: number | null
  readonly acknowledgedBy: string | null
}

export type AlertEventType = 'opened' | 'acknowledged' | 'resolved'

/** One step in an alert's life, oldest first. */
export interface AlertEventRecord {
  readonly id: number
  readonly alert: string
  readonly at: number
  readonly type: AlertEventType
  /** The user who acknowledged; null for the server's own steps. */
  readonly actor: string | null
}

export interface AlertStore {
  /**
   * Opens an alert and records its `opened` event. Fails with `conflict` if the tenant already has
   * an open alert with this key: one open alert per key, whoever tries.
   */
  openAlert(alert: NewAlert): Promise<AlertRecord>
  /** Resolves an open alert (`resolved` event). `not-found` if unknown, `conflict` if resolved already. */
  resolveAlert(tenant: string, id: string): Promise<AlertRecord>
  /**
   * Acknowledges an open alert (`acknowledged` event); it stays open. Acknowledging it again
   * changes nothing. `not-found` if unknown, `conflict` if resolved.
   */
  acknowledgeAlert(tenant: string, id: string, by: string): Promise<AlertRecord>
  getAlert(tenant: string, id: string): Promise<AlertRecord | undefined>
  /** Newest opened first; `before` is the id of the last alert of the previous page. */
  listAlerts(tenant: string, options?: { readonly status?: AlertFilter; readonly limit?: number; readonly before?: string }): Promise<AlertRecord[]>
  /** The alert's history, oldest first (empty for an unknown alert). */
  listAlertEvents(tenant: string, id: string): Promise<AlertEventRecord[]>
}

export interface WebhookRecord {
  readonly id: string
  readonly tenant: string
  /** http or https. */
  readonly url: string
  /** Signs every delivery (HMAC-SHA256); shown to the admin once, on creation. */
  readonly secret: string
  readonly createdAt: number
  readonly createdBy: string | null
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface DeliveryAttempt {
  /** 1, 2, 3, … */
  readonly attempt: number
  readonly at: number
  /** The receiver's HTTP status, or null when there was no answer. */
  readonly statusCode: number | null
  /** Why there was no answer (timeout, refused, …), or null. */
  readonly error: string | null
  readonly durationMs: number
}

export interface DeliveryRecord {
  readonly id: string
  readonly tenant: string
  readonly webhook: string
  /** `alert.opened`, `alert.resolved`, `alert.acknowledged`. */
  readonly event: string
  readonly alert: string
  /** The exact JSON body sent on every attempt. */
  readonly body: string
  readonly createdAt: number
  readonly status: DeliveryStatus
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: number | null
  readonly attempts: readonly DeliveryAttempt[]
}

export interface NewDelivery {
  readonly tenant: string
  readonly webhook: string
  readonly event: string
  readonly alert: string
  readonly body: string
  readonly nextAttemptAt: number
}

export interface AttemptOutcome {
  readonly statusCode: number | null
  readonly error: string | null
  readonly durationMs: number
  /** `pending` with `nextAttemptAt` to try again; `delivered` or `failed` to stop. */
  readonly status: DeliveryStatus
  readonly nextAttemptAt: number | null
}

export interface WebhookStore {
  createWebhook(webhook: { readonly tenant: string; readonly url: string; readonly secret: string; readonly createdBy: string | null }): Promise<WebhookRecord>
  getWebhook(tenant: string, id: string): Promise<WebhookRecord | undefined>
  /** Oldest first. */
  listWebhooks(tenant: string): Promise<WebhookRecord[]>
  /** Removes the webhook and its delivery log. Resolves to whether there was one. */
  deleteWebhook(tenant: string, id: string): Promise<boolean>
  /** A delivery waiting for its first attempt. `not-found` if the webhook is unknown. */
  createDelivery(delivery: NewDelivery): Promise<DeliveryRecord>
  /** Logs one attempt and the delivery's new status. `not-found` if the delivery is gone. */
  recordAttempt(tenant: string, id: string, outcome: AttemptOutcome): Promise<DeliveryRecord>
  getDelivery(tenant: string, id: string): Promise<DeliveryRecord | undefined>
  /** A webhook's deliveries, newest first, each with its attempts. */
  listDeliveries(tenant: string, webhook: string, options?: { readonly limit?: number }): Promise<DeliveryRecord[]>
  /** Pending deliveries of every tenant, the earliest due first (to resume them after a restart). */
  listPendingDeliveries(options?: { readonly limit?: number }): Promise<DeliveryRecord[]>
}
