/** Snapshots and the audit log on Postgres: their tables (part of migration 1) and the statements behind SnapshotStore and AuditStore. */
import { newId } from '../../sync/ids.js'
import { isForeignKeyViolation, type PostgresHelpers } from './postgres-pool.js'
import { snapshotMeta, type AuditEntry, type AuditStore, type SnapshotStore } from './snapshot-types.js'
import { checkSnapshot, pageLimit, unknownTenant } from './validate.js'
import { SNAPSHOT_META_COLUMNS, toSnapshotMeta } from './rows.js'
import type { SnapshotRow } from './rows.js'

/** The tables of SQLite migration 2, appended to Postgres migration 1 (never edit: it has shipped). */
export const SNAPSHOT_TABLES_SQL = `
      CREATE TABLE snapshots (
        id          text COLLATE "C" PRIMARY KEY,
        tenant      text COLLATE "C" NOT NULL REFERENCES tenants (id),
        created_at  bigint NOT NULL,
        trigger     text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'pre-restore')),
        created_by  text,
        reason      text NOT NULL,
        item_count  bigint NOT NULL,
        total_units bigint NOT NULL,
        byte_size   bigint NOT NULL,
        state       bytea NOT NULL
      );
      CREATE INDEX snapshots_by_tenant ON snapshots (tenant, created_at DESC, id DESC);

      CREATE TABLE audit_log (
        id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        at     bigint NOT NULL,
        actor  text NOT NULL,
        action text NOT NULL,
        detail jsonb NOT NULL
      );
      CREATE INDEX audit_by_tenant ON audit_log (tenant, id DESC);
`


interface AuditRow {
  id: number
  tenant: string
  at: number
  actor: string
  action: string
  /** jsonb, already parsed by the driver. */
  detail: unknown
}
const AUDIT_COLUMNS = 'id, tenant, at, actor, action, detail'
const toAudit = (r: AuditRow): AuditEntry => ({ id: r.id, tenant: r.tenant, at: r.at, actor: r.actor, action: r.action, detail: r.detail })

export const postgresSnapshotStores = (h: PostgresHelpers): SnapshotStore & AuditStore => ({
  async saveSnapshot(snapshot) {
    checkSnapshot(snapshot)
    // Copied now: the caller may reuse its buffer before the pool has a connection for us.
    const state = Buffer.from(snapshot.state)
    return h.run('saving a snapshot', async (db) => {
      const meta = snapshotMeta(snapshot, newId('sn'), h.now())
      try {
        await db.query(`INSERT INTO snapshots (${SNAPSHOT_META_COLUMNS}, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          meta.id,
          meta.tenant,
          meta.createdAt,
          meta.trigger,
          meta.createdBy,
          meta.reason,
          meta.itemCount,
          meta.totalUnits,
          state.byteLength,
          state,
        ])
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownTenant(snapshot.tenant)
        throw error
      }
      return meta
    })
  },

  async listSnapshots(tenant, options = {}) {
    const limit = pageLimit(options.limit)
    return h.run('listing snapshots', async (db) => {
      const { rows } = options.trigger
        ? await db.query<SnapshotRow>(
            `SELECT ${SNAPSHOT_META_COLUMNS} FROM snapshots WHERE tenant = $1 AND trigger = $2 ORDER BY created_at DESC, id DESC LIMIT $3`,
            [tenant, options.trigger, limit],
          )
        : await db.query<SnapshotRow>(`SELECT ${SNAPSHOT_META_COLUMNS} FROM snapshots WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [
            tenant,
            limit,
          ])
      return rows.map(toSnapshotMeta)
    })
  },

  async getSnapshot(tenant, id) {
    return h.run('reading a snapshot', async (db) => {
      const { rows } = await db.query<SnapshotRow & { state: Buffer }>(`SELECT ${SNAPSHOT_META_COLUMNS}, state FROM snapshots WHERE tenant = $1 AND id = $2`, [
        tenant,
        id,
      ])
      const row = rows[0]
      if (!row) return undefined
      const { state, ...meta } = row
      return { ...toSnapshotMeta(meta), state: new Uint8Array(state) }
    })
  },

  async deleteSnapshot(tenant, id) {
    return h.run('deleting a snapshot', async (db) => {
      const result = await db.query('DELETE FROM snapshots WHERE tenant = $1 AND id = $2', [tenant, id])
      return (result.rowCount ?? 0) > 0
    })
  },

  async appendAudit({ tenant, actor, action, detail }) {
    const json = JSON.stringify(detail ?? null)
    return h.run('appending to the audit log', async (db) => {
      try {
        const { rows } = await db.query<AuditRow>(
          `INSERT INTO audit_log (tenant, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${AUDIT_COLUMNS}`,
          [tenant, h.now(), actor, action, json],
        )
        const row = rows[0]
        if (!row) throw new Error('INSERT … RETURNING returned no row')
        return toAudit(row)
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownTenant(tenant)
        throw error
      }
    })
  },

  async listAudit(tenant, options = {}) {
    const limit = pageLimit(options.limit)
    const before = options.before ?? Number.MAX_SAFE_INTEGER
    return h.run('listing the audit log', async (db) => {
      const { rows } = options.action
        ? await db.query<AuditRow>(
            `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE tenant = $1 AND action = $2 AND id < $3 ORDER BY id DESC LIMIT $4`,
            [tenant, options.action, before, limit],
          )
        : await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, [
            tenant,
            before,
            limit,
          ])
      return rows.map(toAudit)
    })
  },
})
