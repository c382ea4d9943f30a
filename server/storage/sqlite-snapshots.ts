/** Snapshots and the audit log on SQLite: migration 2 and the statements behind SnapshotStore and AuditStore. */
import type Database from 'better-sqlite3'
import { newId } from '../../sync/ids.js'
import type { Migration } from './sqlite-migrations.js'
import { snapshotMeta } from './snapshot-types.js'
import type { AuditEntry, AuditStore, SnapshotStore, SnapshotTrigger } from './snapshot-types.js'
import { checkSnapshot, pageLimit } from './validate.js'
import { SNAPSHOT_META_COLUMNS, toSnapshotMeta } from './rows.js'
import type { SnapshotRow } from './rows.js'

export const SNAPSHOTS_MIGRATION: Migration = {
  version: 2,
  name: 'snapshots and audit log',
  sql: `
    CREATE TABLE snapshots (
      id          TEXT PRIMARY KEY,
      tenant      TEXT NOT NULL REFERENCES tenants (id),
      created_at  INTEGER NOT NULL,
      trigger     TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'pre-restore')),
      created_by  TEXT,
      reason      TEXT NOT NULL,
      item_count  INTEGER NOT NULL,
      total_units INTEGER NOT NULL,
      byte_size   INTEGER NOT NULL,
      state       BLOB NOT NULL
    ) STRICT;
    CREATE INDEX snapshots_by_tenant ON snapshots (tenant, created_at DESC, id DESC);

    CREATE TABLE audit_log (
      id     INTEGER PRIMARY KEY AUTOINCREMENT,
      tenant TEXT NOT NULL REFERENCES tenants (id),
      at     INTEGER NOT NULL,
      actor  TEXT NOT NULL,
      action TEXT NOT NULL,
      detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_tenant ON audit_log (tenant, id DESC);
  `,
}


interface AuditRow {
  id: number
  tenant: string
  at: number
  actor: string
  action: string
  detail: string
}
const toAudit = (r: AuditRow): AuditEntry => ({ ...r, detail: JSON.parse(r.detail) as unknown })

export interface SqliteHelpers {
  /** Runs one operation with the connection open, translating driver errors. */
  run<T>(operation: string, body: () => T): T
  requireTenant(tenant: string): void
  now(): number
}

export const sqliteSnapshotStores = (db: Database.Database, h: SqliteHelpers): SnapshotStore & AuditStore => {
  const s = {
    insert: db.prepare(
      `INSERT INTO snapshots (${SNAPSHOT_META_COLUMNS}, state) VALUES (@id, @tenant, @created_at, @trigger, @created_by, @reason, @item_count, @total_units, @byte_size, @state)`,
    ),
    list: db.prepare<[string, number], SnapshotRow>(`SELECT ${SNAPSHOT_META_COLUMNS} FROM snapshots WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?`),
    listByTrigger: db.prepare<[string, SnapshotTrigger, number], SnapshotRow>(
      `SELECT ${SNAPSHOT_META_COLUMNS} FROM snapshots WHERE tenant = ? AND trigger = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
    ),
    get: db.prepare<[string, string], SnapshotRow & { state: Buffer }>(`SELECT ${SNAPSHOT_META_COLUMNS}, state FROM snapshots WHERE tenant = ? AND id = ?`),
    delete: db.prepare<[string, string]>('DELETE FROM snapshots WHERE tenant = ? AND id = ?'),
    insertAudit: db.prepare<[string, number, string, string, string], AuditRow>(
      'INSERT INTO audit_log (tenant, at, actor, action, detail) VALUES (?, ?, ?, ?, ?) RETURNING *',
    ),
    audit: db.prepare<[string, number, number], AuditRow>('SELECT * FROM audit_log WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?'),
    auditByAction: db.prepare<[string, string, number, number], AuditRow>(
      'SELECT * FROM audit_log WHERE tenant = ? AND action = ? AND id < ? ORDER BY id DESC LIMIT ?',
    ),
  }
  return {
    async saveSnapshot(snapshot) {
      checkSnapshot(snapshot)
      return h.run('saving a snapshot', () => {
        h.requireTenant(snapshot.tenant)
        const meta = snapshotMeta(snapshot, newId('sn'), h.now())
        s.insert.run({
          id: meta.id,
          tenant: meta.tenant,
          created_at: meta.createdAt,
          trigger: meta.trigger,
          created_by: meta.createdBy,
          reason: meta.reason,
          item_count: meta.itemCount,
          total_units: meta.totalUnits,
          byte_size: meta.byteSize,
          state: snapshot.state,
        })
        return meta
      })
    },
    async listSnapshots(tenant, options = {}) {
      const limit = pageLimit(options.limit)
      return h.run('listing snapshots', () =>
        (options.trigger ? s.listByTrigger.all(tenant, options.trigger, limit) : s.list.all(tenant, limit)).map(toSnapshotMeta),
      )
    },
    async getSnapshot(tenant, id) {
      return h.run('reading a snapshot', () => {
        const row = s.get.get(tenant, id)
        if (!row) return undefined
        const { state, ...meta } = row
        return { ...toSnapshotMeta(meta), state: new Uint8Array(state) }
      })
    },
    async deleteSnapshot(tenant, id) {
      return h.run('deleting a snapshot', () => s.delete.run(tenant, id).changes > 0)
    },
    async appendAudit({ tenant, actor, action, detail }) {
      const json = JSON.stringify(detail ?? null)
      return h.run('appending to the audit log', () => {
        h.requireTenant(tenant)
        return toAudit(s.insertAudit.get(tenant, h.now(), actor, action, json) as AuditRow)
      })
    },
    async listAudit(tenant, options = {}) {
      const limit = pageLimit(options.limit)
      const before = options.before ?? Number.MAX_SAFE_INTEGER
      return h.run('listing the audit log', () =>
        (options.action ? s.auditByAction.all(tenant, options.action, before, limit) : s.audit.all(tenant, before, limit)).map(toAudit),
      )
    },
  }
}
