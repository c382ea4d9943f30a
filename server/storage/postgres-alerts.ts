/** Alerts, webhooks and deliveries on Postgres: migration 2 and the statements behind AlertStore and WebhookStore. */
import type { AlertDetail } from '../../sync/alerts.js'
import { newId } from '../../sync/ids.js'
import type { AlertEventRecord, AlertRecord, AlertStore, DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord, WebhookStore } from './alert-types.js'
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
import type { PostgresMigration } from './postgres-migrations.js'
import { isForeignKeyViolation, isUniqueViolation, type PostgresHelpers, type Queryable } from './postgres-pool.js'
import { pageLimit, unknownTenant } from './validate.js'
import { toAlert as alertRecord, toWebhook } from './rows.js'
import type { AlertRow as SqlAlertRow, WebhookRow } from './rows.js'

/** The tables of SQLite migration 3. */
export const POSTGRES_ALERTS_MIGRATION: PostgresMigration = {
  version: 2,
  name: 'alerts with history, webhooks and their delivery log',
  sql: `
    CREATE TABLE alerts (
      id              text COLLATE "C" PRIMARY KEY,
      tenant          text COLLATE "C" NOT NULL REFERENCES tenants (id),
      key             text NOT NULL,
      kind            text NOT NULL,
      severity        text NOT NULL,
      item            text NOT NULL,
      location        text,
      sku             text NOT NULL,
      detail          jsonb NOT NULL,
      status          text NOT NULL CHECK (status IN ('open', 'resolved')),
      opened_at       bigint NOT NULL,
      resolved_at     bigint,
      acknowledged_at bigint,
      acknowledged_by text
    );
    -- One open alert per tenant and condition key, whoever writes.
    CREATE UNIQUE INDEX alerts_one_open_per_key ON alerts (tenant, key) WHERE status = 'open';
    CREATE INDEX alerts_by_tenant ON alerts (tenant, opened_at DESC, id DESC);

    CREATE TABLE alert_events (
      id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
      alert  text COLLATE "C" NOT NULL REFERENCES alerts (id),
      at     bigint NOT NULL,
      type   text NOT NULL CHECK (type IN ('opened', 'acknowledged', 'resolved')),
      actor  text
    );
    CREATE INDEX alert_events_by_alert ON alert_events (alert, id);

    CREATE TABLE webhooks (
      id         text COLLATE "C" PRIMARY KEY,
      tenant     text COLLATE "C" NOT NULL REFERENCES tenants (id),
      url        text NOT NULL,
      secret     text NOT NULL,
      created_at bigint NOT NULL,
      created_by text
    );
    CREATE INDEX webhooks_by_tenant ON webhooks (tenant, created_at, id);

    CREATE TABLE webhook_deliveries (
      id              text COLLATE "C" PRIMARY KEY,
      tenant          text COLLATE "C" NOT NULL REFERENCES tenants (id),
      webhook         text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      event           text NOT NULL,
      alert           text NOT NULL,
      body            text NOT NULL,
      created_at      bigint NOT NULL,
      status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      next_attempt_at bigint
    );
    CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook, created_at DESC, id DESC);
    CREATE INDEX deliveries_pending ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

    CREATE TABLE webhook_attempts (
      delivery    text COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      attempt     integer NOT NULL,
      at          bigint NOT NULL,
      status_code integer,
      error       text,
      duration_ms double precision NOT NULL,
      PRIMARY KEY (delivery, attempt)
    );
  `,
}

/** The detail column is jsonb, already parsed by the driver. */
type AlertRow = SqlAlertRow<AlertDetail>
const toAlert = (r: AlertRow): AlertRecord => alertRecord(r, r.detail)
const ALERT_COLUMNS = 'id, tenant, key, kind, severity, item, location, sku, detail, status, opened_at, resolved_at, acknowledged_at, acknowledged_by'

const WEBHOOK_COLUMNS = 'id, tenant, url, secret, created_at, created_by'

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
  /** json, already parsed by the driver: the attempts, oldest first. */
  attempts: DeliveryAttempt[]
}
/**
 * A delivery with its attempts in one statement (one snapshot: the attempts always match the
 * status). JSON numbers: `at` is a bigint within the safe range; float8 prints the shortest exact form.
 */
const DELIVERY_COLUMNS = `d.id, d.tenant, d.webhook, d.event, d.alert, d.body, d.created_at, d.status, d.next_attempt_at,
  COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms)
                            ORDER BY a.attempt)
            FROM webhook_attempts a WHERE a.delivery = d.id), '[]'::json) AS attempts`
const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  tenant: r.tenant,
  webhook: r.webhook,
  event: r.event,
  alert: r.alert,
  body: r.body,
  createdAt: r.created_at,
  status: r.status,
  nextAttemptAt: r.next_attempt_at,
  attempts: r.attempts,
})

const alertRow = async (db: Queryable, tenant: string, id: string): Promise<AlertRow | undefined> =>
  (await db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE tenant = $1 AND id = $2`, [tenant, id])).rows[0]

const deliveryRow = async (db: Queryable, tenant: string, id: string): Promise<DeliveryRow | undefined> =>
  (await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.tenant = $1 AND d.id = $2`, [tenant, id])).rows[0]

/**
 * Changes an alert and records the step in its history, in one statement (its own transaction).
 * `where` narrows which alerts may take the step; no row back means the alert is unknown or could not.
 */
const alertStep = async (db: Queryable, set: string, where: string, event: string, values: readonly unknown[]): Promise<AlertRow | undefined> =>
  (
    await db.query<AlertRow>(
      `WITH changed AS (UPDATE alerts SET ${set} WHERE tenant = $1 AND id = $2 AND ${where} RETURNING ${ALERT_COLUMNS}),
            step AS (INSERT INTO alert_events (tenant, alert, at, type, actor) SELECT tenant, id, ${event} FROM changed)
       SELECT ${ALERT_COLUMNS} FROM changed`,
      values,
    )
  ).rows[0]

export const postgresAlertStores = (h: PostgresHelpers): AlertStore & WebhookStore => ({
  async openAlert(a) {
    checkNewAlert(a)
    return h.run('opening an alert', async (db) => {
      try {
        // The partial unique index refuses a second open alert per key, even from another instance.
        const { rows } = await db.query<AlertRow>(
          `WITH opened AS (
             INSERT INTO alerts (id, tenant, key, kind, severity, item, location, sku, detail, status, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 'open', $10) RETURNING ${ALERT_COLUMNS}
           ), step AS (INSERT INTO alert_events (tenant, alert, at, type, actor) SELECT tenant, id, opened_at, 'opened', NULL FROM opened)
           SELECT ${ALERT_COLUMNS} FROM opened`,
          [newId('al'), a.tenant, a.key, a.kind, a.severity, a.item, a.location, a.sku, JSON.stringify(a.detail), h.now()],
        )
        const row = rows[0]
        if (!row) throw new Error('INSERT … RETURNING returned no row')
        return toAlert(row)
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownTenant(a.tenant)
        if (isUniqueViolation(error)) throw alertAlreadyOpen(a.tenant, a.key)
        throw error
      }
    })
  },

  async resolveAlert(tenant, id) {
    return h.run('resolving an alert', async (db) => {
      const resolved = await alertStep(db, `status = 'resolved', resolved_at = $3`, `status = 'open'`, `$3, 'resolved', NULL`, [tenant, id, h.now()])
      if (resolved) return toAlert(resolved)
      // Alerts are never deleted and never reopen: one that exists now was resolved already.
      if (await alertRow(db, tenant, id)) throw alertResolved(id)
      throw unknownAlert(tenant, id)
    })
  },

  async acknowledgeAlert(tenant, id, by) {
    return h.run('acknowledging an alert', async (db) => {
      const acknowledged = await alertStep(
        db,
        'acknowledged_at = $3, acknowledged_by = $4',
        `status = 'open' AND acknowledged_at IS NULL`,
        `$3, 'acknowledged', $4`,
        [tenant, id, h.now(), by],
      )
      if (acknowledged) return toAlert(acknowledged)
      const row = await alertRow(db, tenant, id)
      if (!row) throw unknownAlert(tenant, id)
      if (row.status === 'resolved') throw alertResolved(id)
      return toAlert(row) // acknowledged already: nothing changes
    })
  },

  async getAlert(tenant, id) {
    return h.run('reading an alert', async (db) => {
      const row = await alertRow(db, tenant, id)
      return row ? toAlert(row) : undefined
    })
  },

  async listAlerts(tenant, options = {}) {
    const status = options.status ?? 'all'
    checkAlertFilter(status)
    const limit = pageLimit(options.limit)
    const before = options.before
    return h.run('listing alerts', async (db) => {
      const filter = `tenant = $1 AND ($2 = 'all' OR status = $2)`
      if (before === undefined) {
        const { rows } = await db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${filter} ORDER BY opened_at DESC, id DESC LIMIT $3`, [
          tenant,
          status,
          limit,
        ])
        return rows.map(toAlert)
      }
      // The cursor's opened_at and id never change, so reading it first cannot tear the page.
      const cursor = await alertRow(db, tenant, before)
      if (!cursor) throw unknownCursor(before)
      const { rows } = await db.query<AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${filter} AND (opened_at, id) < ($3::bigint, $4::text)
         ORDER BY opened_at DESC, id DESC LIMIT $5`,
        [tenant, status, cursor.opened_at, cursor.id, limit],
      )
      return rows.map(toAlert)
    })
  },

  async listAlertEvents(tenant, id) {
    return h.run('reading the history of an alert', async (db) => {
      const { rows } = await db.query<AlertEventRecord>('SELECT id, alert, at, type, actor FROM alert_events WHERE tenant = $1 AND alert = $2 ORDER BY id', [
        tenant,
        id,
      ])
      return rows
    })
  },

  async createWebhook({ tenant, url, secret, createdBy }) {
    checkWebhook({ url, secret })
    return h.run('adding a webhook', async (db) => {
      const record: WebhookRecord = { id: newId('wh'), tenant, url, secret, createdAt: h.now(), createdBy }
      try {
        await db.query(`INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [record.id, tenant, url, secret, record.createdAt, createdBy])
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownTenant(tenant)
        throw error
      }
      return record
    })
  },

  async getWebhook(tenant, id) {
    return h.run('reading a webhook', async (db) => {
      const row = (await db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE tenant = $1 AND id = $2`, [tenant, id])).rows[0]
      return row ? toWebhook(row) : undefined
    })
  },

  async listWebhooks(tenant) {
    return h.run('listing webhooks', async (db) =>
      (await db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE tenant = $1 ORDER BY created_at, id`, [tenant])).rows.map(toWebhook),
    )
  },

  async deleteWebhook(tenant, id) {
    return h.run('removing a webhook', async (db) => {
      // Its deliveries and their attempts go with it (ON DELETE CASCADE).
      const result = await db.query('DELETE FROM webhooks WHERE tenant = $1 AND id = $2', [tenant, id])
      return (result.rowCount ?? 0) > 0
    })
  },

  async createDelivery(d) {
    checkDelivery(d)
    return h.run('queueing a webhook delivery', async (db) => {
      const id = newId('dl')
      try {
        // Inserts nothing unless the tenant has that webhook.
        const inserted = await db.query(
          `INSERT INTO webhook_deliveries (id, tenant, webhook, event, alert, body, created_at, status, next_attempt_at)
           SELECT $1::text, tenant, id, $4::text, $5::text, $6::text, $7::bigint, 'pending', $8::bigint FROM webhooks WHERE tenant = $2 AND id = $3`,
          [id, d.tenant, d.webhook, d.event, d.alert, d.body, h.now(), d.nextAttemptAt],
        )
        if (inserted.rowCount === 0) throw unknownWebhook(d.tenant, d.webhook)
      } catch (error) {
        // The webhook was deleted between our read of it and the foreign key check.
        if (isForeignKeyViolation(error)) throw unknownWebhook(d.tenant, d.webhook)
        throw error
      }
      const row = await deliveryRow(db, d.tenant, id)
      if (!row) throw unknownDelivery(d.tenant, id) // deleted with its webhook at once
      return toDelivery(row)
    })
  },

  async recordAttempt(tenant, id, o) {
    checkOutcome(o)
    return h.transaction('logging a webhook attempt', async (tx) => {
      // The row lock makes concurrent attempts on one delivery take their numbers in turn.
      const current = (
        await tx.query<{ status: DeliveryStatus }>('SELECT status FROM webhook_deliveries WHERE tenant = $1 AND id = $2 FOR UPDATE', [tenant, id])
      ).rows[0]
      if (!current) throw unknownDelivery(tenant, id)
      if (current.status !== 'pending') throw deliveryFinished(id)
      await tx.query(
        `INSERT INTO webhook_attempts (delivery, attempt, at, status_code, error, duration_ms)
         SELECT $1::text, COALESCE(MAX(attempt), 0) + 1, $2::bigint, $3::integer, $4::text, $5::float8 FROM webhook_attempts WHERE delivery = $1`,
        [id, h.now(), o.statusCode, o.error, o.durationMs],
      )
      await tx.query('UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3 WHERE id = $1', [id, o.status, o.nextAttemptAt])
      const row = await deliveryRow(tx, tenant, id)
      if (!row) throw unknownDelivery(tenant, id)
      return toDelivery(row)
    })
  },

  async getDelivery(tenant, id) {
    return h.run('reading a webhook delivery', async (db) => {
      const row = await deliveryRow(db, tenant, id)
      return row ? toDelivery(row) : undefined
    })
  },

  async listDeliveries(tenant, webhook, options = {}) {
    const limit = pageLimit(options.limit)
    return h.run('listing webhook deliveries', async (db) => {
      const { rows } = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.tenant = $1 AND d.webhook = $2 ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
        [tenant, webhook, limit],
      )
      return rows.map(toDelivery)
    })
  },

  async listPendingDeliveries(options = {}) {
    const limit = pageLimit(options.limit)
    return h.run('listing pending webhook deliveries', async (db) => {
      const { rows } = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.status = 'pending' ORDER BY d.next_attempt_at, d.id LIMIT $1`,
        [limit],
      )
      return rows.map(toDelivery)
    })
  },
})
