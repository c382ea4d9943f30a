/**
 * What the alert duty tells the world: a notice per step of an alert's life, the same JSON on the
 * live stream and in webhook bodies, and the record it mirrors into the document.
 */
import type { MirroredAlert } from '../../sync/alerts.js'
import type { AlertRecord } from '../storage/alert-types.js'

export type AlertEventName = 'alert.opened' | 'alert.resolved' | 'alert.acknowledged'
export const ALERT_EVENT_NAMES: readonly AlertEventName[] = ['alert.opened', 'alert.resolved', 'alert.acknowledged']

/** The body of a webhook delivery and the data of a live-stream event (docs/PROTOCOL.md). */
export interface AlertNotice {
  readonly event: AlertEventName
  readonly tenant: string
  readonly alert: AlertRecord
}

/** The record the server keeps under the alert's key in the document's `alerts` map (docs/SCHEMA.md). */
export const mirroredAlert = (a: AlertRecord): MirroredAlert => ({
  id: a.id,
  kind: a.kind,
  severity: a.severity,
  item: a.item,
  ...(a.location !== null ? { location: a.location } : {}),
  sku: a.sku,
  openedAt: a.openedAt,
  acknowledged: a.acknowledgedAt !== null,
  ...(a.acknowledgedAt !== null ? { acknowledgedAt: a.acknowledgedAt } : {}),
  ...(a.acknowledgedBy !== null ? { acknowledgedBy: a.acknowledgedBy } : {}),
  detail: a.detail,
})
