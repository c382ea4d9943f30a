/** Alerts, webhooks and deliveries on SQLite: migration 3 and the statements behind AlertStore and WebhookStore. */
import type Database from 'better-sqlite3'
import type { AlertDetail } from '../../sync/alerts.js'
import { newId } from '../../sync/ids.js'
import type {
  AlertEventRecord,
  AlertEventType,
  AlertRecord,
  AlertStore,
  DeliveryRecord,
  DeliveryStatus,
  WebhookRecord,
  WebhookStore,
} from './alert-types.js'
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
import type { Migration } from './sqlite-migrations.js'
import type { SqliteHelpers } from './sqlite-snapshots.js'
import { pageLimit } from './validate.js'
import { toAlert as alertRecord, toAttempt, toWebhook } from './rows.js'
import type { AlertRow as SqlAlertRow, AttemptRow, WebhookRow } from './rows.js'

export const ALERTS_MIGRATION: Migration = {
  version: 3,
  name: 'alerts with history, webhooks and their delivery log',
  sql: `
    CREATE TABLE alerts (
      id              TEXT PRIMARY KEY,
      tenant          TEXT NOT NULL REFERENCES tenants (id),
      key             TEXT NOT NULL,
      kind            TEXT NOT NULL,
      severity        TEXT NOT NULL,
      item            TEXT NOT NULL,
      location        TEXT,
      sku             TEXT NOT NULL,
      detail          TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
      opened_at       INTEGER NOT NULL,
      resolved_at     INTEGER,
      acknowledged_at INTEGER,
      acknowledged_by TEXT
    ) STRICT;
    -- One open alert per tenant and condition key, whoever writes (a partial unique index, as in Postgres).
    CREATE UNIQUE INDEX alerts_one_open_per_key ON alerts (tenant, key) WHERE status = 'open';
    CREATE INDEX alerts_by_tenant ON alerts (tenant, opened_at DESC, id DESC);

    CREATE TABLE alert_events (
      id     INTEGER PRIMARY KEY AUTOINCREMENT,
      tenant TEXT NOT NULL REFERENCES tenants (id),
      alert  TEXT NOT NULL REFERENCES alerts (id),
      at     INTEGER NOT NULL,
      type   TEXT NOT NULL CHECK (type IN ('opened', 'acknowledged', 'resolved')),
      actor  TEXT
    ) STRICT;
    CREATE INDEX alert_events_by_alert ON alert_events (alert, id);

    CREATE TABLE webhooks (
      id         TEXT PRIMARY KEY,
      tenant     TEXT NOT NULL REFERENCES tenants (id),
      url        TEXT NOT NULL,
      secret     TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT
    ) STRICT;
    CREATE INDEX webhooks_by_tenant ON webhooks (tenant, created_at, id);

    CREATE TABLE webhook_deliveries (
      id              TEXT PRIMARY KEY,
      tenant          TEXT NOT NULL REFERENCES tenants (id),
      webhook         TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      event           TEXT NOT NULL,
      alert           TEXT NOT NULL,
      body            TEXT NOT NULL,
      created_at      INTEGER NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      next_attempt_at INTEGER
    ) STRICT;
    CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook, created_at DESC, id DESC);
    CREATE INDEX deliveries_pending ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

    CREATE TABLE webhook_attempts (
      delivery    TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      attempt     INTEGER NOT NULL,
      at          INTEGER NOT NULL,
      status_code INTEGER,
      error       TEXT,
      duration_ms REAL NOT NULL,
      PRIMARY KEY (delivery, attempt)
    ) STRICT;
  `,
}



type AlertRow = SqlAlertRow<string>
const toAlert = (r: AlertRow): AlertRecord => alertRecord(r, JSON.parse(r.detail) as AlertDetail)

interface DeliveryRow {
  id: string
  tenant: string
  webhook: string
  event: string
  alert: string
  body: string
  created_at: number
  status: DeliveryStatus
  next_attempt_at: number | null
}

export const sqliteAlertStores = (db: Database.Database, h: SqliteHelpers): AlertStore & WebhookStore => {
  const s = {
    insertAlert: db.prepare(
      `INSERT INTO alerts (id, tenant, key, kind, severity, item, location, sku, detail, status, opened_at)
       VALUES (@id, @tenant, @key, @kind, @severity, @item, @location, @sku, @detail, 'open', @opened_at)`,
    ),
    openByKey: db.prepare<[string, string], AlertRow>(`SELECT * FROM alerts WHERE tenant = ? AND key = ? AND status = 'open'`),
    alert: db.prepare<[string, string], AlertRow>('SELECT * FROM alerts WHERE tenant = ? AND id = ?'),
    resolve: db.prepare<[number, string]>(`UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?`),
    acknowledge: db.prepare<[number, string, string]>('UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?'),
    insertEvent: db.prepare<[string, string, number, AlertEventType, string | null]>(
      'INSERT INTO alert_events (tenant, alert, at, type, actor) VALUES (?, ?, ?, ?, ?)',
    ),
    events: db.prepare<[string, string], AlertEventRecord>('SELECT id, alert, at, type, actor FROM alert_events WHERE tenant = ? AND alert = ? ORDER BY id'),
    list: db.prepare<{ tenant: string; status: string; opened_at: number; id: string; limit: number }, AlertRow>(
      `SELECT * FROM alerts WHERE tenant = @tenant AND (@status = 'all' OR status = @status)
         AND (opened_at < @opened_at OR (opened_at = @opened_at AND id < @id))
       ORDER BY opened_at DESC, id DESC LIMIT @limit`,
    ),
    insertWebhook: db.prepare<[string, string, string, string, number, string | null]>(
      'INSERT INTO webhooks (id, tenant, url, secret, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    webhook: db.prepare<[string, string], WebhookRow>('SELECT * FROM webhooks WHERE tenant = ? AND id = ?'),
    webhooks: db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE tenant = ? ORDER BY created_at, id'),
    deleteWebhook: db.prepare<[string, string]>('DELETE FROM webhooks WHERE tenant = ? AND id = ?'),
    insertDelivery: db.prepare<[string, string, string, string, string, string, number, number]>(
      `INSERT INTO webhook_deliveries (id, tenant, webhook, event, alert, body, created_at, status, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    ),
    delivery: db.prepare<[string, string], DeliveryRow>('SELECT * FROM webhook_deliveries WHERE tenant = ? AND id = ?'),
    deliveries: db.prepare<[string, string, number], DeliveryRow>(
      'SELECT * FROM webhook_deliveries WHERE tenant = ? AND webhook = ? ORDER BY created_at DESC, id DESC LIMIT ?',
    ),
    pending: db.prepare<[number], DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT ?`),
    attempts: db.prepare<[string], AttemptRow>('SELECT attempt, at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery = ? ORDER BY attempt'),
    insertAttempt: db.prepare<[string, number, number, number | null, string | null, number]>(
      'INSERT INTO webhook_attempts (delivery, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateDelivery: db.prepare<[DeliveryStatus, number | null, string]>('UPDATE webhook_deliveries SET status = ?, next_attempt_at = ? WHERE id = ?'),
  }

  const existingAlert = (tenant: string, id: string): AlertRow => {
    const row = s.alert.get(tenant, id)
    if (!row) throw unknownAlert(tenant, id)
    return row
  }
  const withAttempts = (r: DeliveryRow): DeliveryRecord => ({
    id: r.id,
    tenant: r.tenant,
    webhook: r.webhook,
    event: r.event,
    alert: r.alert,
    body: r.body,
    createdAt: r.created_at,
    status: r.status,
    nextAttemptAt: r.next_attempt_at,
    attempts: s.attempts.all(r.id).map(toAttempt),
  })

  const openAlert = db.transaction((a: Parameters<AlertStore['openAlert']>[0]): AlertRecord => {
    h.requireTenant(a.tenant)
    if (s.openByKey.get(a.tenant, a.key)) throw alertAlreadyOpen(a.tenant, a.key)
    const id = newId('al')
    const at = h.now()
    s.insertAlert.run({ id, tenant: a.tenant, key: a.key, kind: a.kind, severity: a.severity, item: a.item, location: a.location, sku: a.sku, detail: JSON.stringify(a.detail), opened_at: at })
    s.insertEvent.run(a.tenant, id, at, 'opened', null)
    return toAlert(existingAlert(a.tenant, id))
  })

  const resolveAlert = db.transaction((tenant: string, id: string): AlertRecord => {
    if (existingAlert(tenant, id).status === 'resolved') throw alertResolved(id)
    const at = h.now()
    s.resolve.run(at, id)
    s.insertEvent.run(tenant, id, at, 'resolved', null)
    return toAlert(existingAlert(tenant, id))
  })

  const acknowledgeAlert = db.transaction((tenant: string, id: string, by: string): AlertRecord => {
    const row = existingAlert(tenant, id)
    if (row.status === 'resolved') throw alertResolved(id)
    if (row.acknowledged_at !== null) return toAlert(row)
    const at = h.now()
    s.acknowledge.run(at, by, id)
    s.insertEvent.run(tenant, id, at, 'acknowledged', by)
    return toAlert(existingAlert(tenant, id))
  })

  const listAlerts = db.transaction((tenant: string, status: string, limit: number, before: string | undefined): AlertRecord[] => {
    let cursor = { opened_at: Number.MAX_SAFE_INTEGER, id: '\uffff' }
    if (before !== undefined) {
      const row = s.alert.get(tenant, before)
      if (!row) throw unknownCursor(before)
      cursor = { opened_at: row.opened_at, id: row.id }
    }
    return s.list.all({ tenant, status, limit, ...cursor }).map(toAlert)
  })

  const createDelivery = db.transaction((d: Parameters<WebhookStore['createDelivery']>[0]): DeliveryRecord => {
    if (!s.webhook.get(d.tenant, d.webhook)) throw unknownWebhook(d.tenant, d.webhook)
    const id = newId('dl')
    s.insertDelivery.run(id, d.tenant, d.webhook, d.event, d.alert, d.body, h.now(), d.nextAttemptAt)
    return withAttempts(s.delivery.get(d.tenant, id) as DeliveryRow)
  })

  const recordAttempt = db.transaction((tenant: string, id: string, o: Parameters<WebhookStore['recordAttempt']>[2]): DeliveryRecord => {
    const row = s.delivery.get(tenant, id)
    if (!row) throw unknownDelivery(tenant, id)
    if (row.status !== 'pending') throw deliveryFinished(id)
    const attempt = s.attempts.all(id).length + 1
    s.insertAttempt.run(id, attempt, h.now(), o.statusCode, o.error, o.durationMs)
    s.updateDelivery.run(o.status, o.nextAttemptAt, id)
    return withAttempts(s.delivery.get(tenant, id) as DeliveryRow)
  })

  return {
    async openAlert(alert) {
      checkNewAlert(alert)
      return h.run('opening an alert', () => openAlert.immediate(alert))
    },
    async resolveAlert(tenant, id) {
      return h.run('resolving an alert', () => resolveAlert.immediate(tenant, id))
    },
    async acknowledgeAlert(tenant, id, by) {
      return h.run('acknowledging an alert', () => acknowledgeAlert.immediate(tenant, id, by))
    },
    async getAlert(tenant, id) {
      return h.run('reading an alert', () => {
        const row = s.alert.get(tenant, id)
        return row ? toAlert(row) : undefined
      })
    },
    async listAlerts(tenant, options = {}) {
      const status = options.status ?? 'all'
      checkAlertFilter(status)
      const limit = pageLimit(options.limit)
      return h.run('listing alerts', () => listAlerts(tenant, status, limit, options.before))
    },
    async listAlertEvents(tenant, id) {
      return h.run('reading the history of an alert', () => s.events.all(tenant, id))
    },

    async createWebhook({ tenant, url, secret, createdBy }) {
      checkWebhook({ url, secret })
      return h.run('adding a webhook', () => {
        h.requireTenant(tenant)
        const record: WebhookRecord = { id: newId('wh'), tenant, url, secret, createdAt: h.now(), createdBy }
        s.insertWebhook.run(record.id, tenant, url, secret, record.createdAt, createdBy)
        return record
      })
    },
    async getWebhook(tenant, id) {
      return h.run('reading a webhook', () => {
        const row = s.webhook.get(tenant, id)
        return row ? toWebhook(row) : undefined
      })
    },
    async listWebhooks(tenant) {
      return h.run('listing webhooks', () => s.webhooks.all(tenant).map(toWebhook))
    },
    async deleteWebhook(tenant, id) {
      return h.run('removing a webhook', () => s.deleteWebhook.run(tenant, id).changes > 0)
    },
    async createDelivery(delivery) {
      checkDelivery(delivery)
      return h.run('queueing a webhook delivery', () => createDelivery.immediate(delivery))
    },
    async recordAttempt(tenant, id, outcome) {
      checkOutcome(outcome)
      return h.run('logging a webhook attempt', () => recordAttempt.immediate(tenant, id, outcome))
    },
    async getDelivery(tenant, id) {
      return h.run('reading a webhook delivery', () => {
        const row = s.delivery.get(tenant, id)
        return row ? withAttempts(row) : undefined
      })
    },
    async listDeliveries(tenant, webhook, options = {}) {
      const limit = pageLimit(options.limit)
      return h.run('listing webhook deliveries', () => s.deliveries.all(tenant, webhook, limit).map(withAttempts))
    },
    async listPendingDeliveries(options = {}) {
      const limit = pageLimit(options.limit)
      return h.run('listing pending webhook deliveries', () => s.pending.all(limit).map(withAttempts))
    },
  }
}
