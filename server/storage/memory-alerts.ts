/** Alerts, webhooks and deliveries in memory, for tests: the same behaviour as SQLite. */
import { newId } from '../../sync/ids.js'
import type { AlertEventRecord, AlertRecord, AlertStore, DeliveryRecord, WebhookRecord, WebhookStore } from './alert-types.js'
import {
  alertAlreadyOpen,
  alertResolved,
  checkAlertFilter,
  checkDelivery,
  checkNewAlert,
  checkOutcome,
  checkWebhook,
  deliveryFinished,
  unknownAlert,
  unknownCursor,
  unknownDelivery,
  unknownWebhook,
} from './alert-validate.js'
import type { MemoryHelpers } from './memory-snapshots.js'
import { pageLimit } from './validate.js'

/** A deep copy through JSON: what a database would give back. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

export const memoryAlertStores = (h: MemoryHelpers): AlertStore & WebhookStore => {
  const alerts = new Map<string, AlertRecord>() // by id, every tenant
  const events: Array<AlertEventRecord & { tenant: string }> = []
  const webhooks = new Map<string, WebhookRecord>()
  const deliveries = new Map<string, DeliveryRecord>()

  const alertOf = (tenant: string, id: string): AlertRecord => {
    h.open()
    const alert = alerts.get(id)
    if (!alert || alert.tenant !== tenant) throw unknownAlert(tenant, id)
    return alert
  }
  const record = (tenant: string, alert: string, type: AlertEventRecord['type'], actor: string | null, at: number) =>
    events.push({ id: events.length + 1, tenant, alert, at, type, actor })
  const newestFirst = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) =>
    b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)

  return {
    async openAlert(a) {
      checkNewAlert(a)
      h.requireTenant(a.tenant)
      for (const other of alerts.values()) {
        if (other.tenant === a.tenant && other.key === a.key && other.status === 'open') throw alertAlreadyOpen(a.tenant, a.key)
      }
      const at = h.now()
      const alert: AlertRecord = {
        id: newId('al'),
        tenant: a.tenant,
        key: a.key,
        kind: a.kind,
        severity: a.severity,
        item: a.item,
        location: a.location,
        sku: a.sku,
        detail: copy(a.detail),
        status: 'open',
        openedAt: at,
        resolvedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
      }
      alerts.set(alert.id, alert)
      record(a.tenant, alert.id, 'opened', null, at)
      return copy(alert)
    },
    async resolveAlert(tenant, id) {
      const alert = alertOf(tenant, id)
      if (alert.status === 'resolved') throw alertResolved(id)
      const at = h.now()
      const resolved: AlertRecord = { ...alert, status: 'resolved', resolvedAt: at }
      alerts.set(id, resolved)
      record(tenant, id, 'resolved', null, at)
      return copy(resolved)
    },
    async acknowledgeAlert(tenant, id, by) {
      const alert = alertOf(tenant, id)
      if (alert.status === 'resolved') throw alertResolved(id)
      if (alert.acknowledgedAt !== null) return copy(alert)
      const at = h.now()
      const acknowledged: AlertRecord = { ...alert, acknowledgedAt: at, acknowledgedBy: by }
      alerts.set(id, acknowledged)
      record(tenant, id, 'acknowledged', by, at)
      return copy(acknowledged)
    },
    async getAlert(tenant, id) {
      h.open()
      const alert = alerts.get(id)
      return alert && alert.tenant === tenant ? copy(alert) : undefined
    },
    async listAlerts(tenant, options = {}) {
      h.open()
      const status = options.status ?? 'all'
      checkAlertFilter(status)
      const limit = pageLimit(options.limit)
      const sorted = [...alerts.values()]
        .filter((a) => a.tenant === tenant && (status === 'all' || a.status === status))
        .sort((a, b) => newestFirst({ createdAt: a.openedAt, id: a.id }, { createdAt: b.openedAt, id: b.id }))
      let start = 0
      if (options.before !== undefined) {
        const cursor = alerts.get(options.before)
        if (!cursor || cursor.tenant !== tenant) throw unknownCursor(options.before)
        start = sorted.findIndex((a) => a.openedAt < cursor.openedAt || (a.openedAt === cursor.openedAt && a.id < cursor.id))
        if (start < 0) start = sorted.length
      }
      return sorted.slice(start, start + limit).map(copy)
    },
    async listAlertEvents(tenant, id) {
      h.open()
      return events.filter((e) => e.tenant === tenant && e.alert === id).map(({ tenant: _tenant, ...e }) => e)
    },

    async createWebhook({ tenant, url, secret, createdBy }) {
      checkWebhook({ url, secret })
      h.requireTenant(tenant)
      const webhook: WebhookRecord = { id: newId('wh'), tenant, url, secret, createdAt: h.now(), createdBy }
      webhooks.set(webhook.id, webhook)
      return { ...webhook }
    },
    async getWebhook(tenant, id) {
      h.open()
      const webhook = webhooks.get(id)
      return webhook && webhook.tenant === tenant ? { ...webhook } : undefined
    },
    async listWebhooks(tenant) {
      h.open()
      return [...webhooks.values()].filter((w) => w.tenant === tenant).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
    },
    async deleteWebhook(tenant, id) {
      h.open()
      const webhook = webhooks.get(id)
      if (!webhook || webhook.tenant !== tenant) return false
      webhooks.delete(id)
      for (const [key, d] of deliveries) if (d.webhook === id) deliveries.delete(key)
      return true
    },
    async createDelivery(d) {
      checkDelivery(d)
      h.open()
      const webhook = webhooks.get(d.webhook)
      if (!webhook || webhook.tenant !== d.tenant) throw unknownWebhook(d.tenant, d.webhook)
      const delivery: DeliveryRecord = { id: newId('dl'), ...d, createdAt: h.now(), status: 'pending', attempts: [] }
      deliveries.set(delivery.id, delivery)
      return copy(delivery)
    },
    async recordAttempt(tenant, id, o) {
      checkOutcome(o)
      h.open()
      const delivery = deliveries.get(id)
      if (!delivery || delivery.tenant !== tenant) throw unknownDelivery(tenant, id)
      if (delivery.status !== 'pending') throw deliveryFinished(id)
      const attempt = { attempt: delivery.attempts.length + 1, at: h.now(), statusCode: o.statusCode, error: o.error, durationMs: o.durationMs }
      const next: DeliveryRecord = { ...delivery, status: o.status, nextAttemptAt: o.nextAttemptAt, attempts: [...delivery.attempts, attempt] }
      deliveries.set(id, next)
      return copy(next)
    },
    async getDelivery(tenant, id) {
      h.open()
      const delivery = deliveries.get(id)
      return delivery && delivery.tenant === tenant ? copy(delivery) : undefined
    },
    async listDeliveries(tenant, webhook, options = {}) {
      h.open()
      const limit = pageLimit(options.limit)
      return [...deliveries.values()].filter((d) => d.tenant === tenant && d.webhook === webhook).sort(newestFirst).slice(0, limit).map(copy)
    },
    async listPendingDeliveries(options = {}) {
      h.open()
      const limit = pageLimit(options.limit)
      return [...deliveries.values()]
        .filter((d) => d.status === 'pending')
        .sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map(copy)
    },
  }
}
