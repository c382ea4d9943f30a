/**
 * Storage on PostgreSQL (`DATABASE_URL`), for more than one server instance: the same behaviour as
 * the SQLite store (it passes the same contract suite), on a `pg` pool.
 *
 * - Every table lives in one schema (`public` unless told otherwise), created on open if missing;
 *   each connection gets `search_path` = that schema and `synchronous_commit = on`, so a COMMIT
 *   is flushed to disk before appendUpdate resolves.
 * - An append is one statement (its own transaction): it bumps the tenant's `documents` row and
 *   inserts the update. The row lock it takes serialises appends per tenant across every instance.
 * - loadDocument reads the head and the updates in one REPEATABLE READ transaction (one
 *   snapshot), so a concurrent compaction cannot tear it; a compaction locks the head row.
 * - No async work happens inside a transaction except its own queries.
 */
import { newId } from '../../sync/ids.js'
import { postgresAlertStores } from './postgres-alerts.js'
import { migratePostgres } from './postgres-migrations.js'
import { checkSchemaName, createPool, isForeignKeyViolation, isUniqueViolation, poolHelpers, type Queryable } from './postgres-pool.js'
import { postgresSnapshotStores } from './postgres-snapshots.js'
import { StorageError, type Storage, type StoredDocument, type UserRecord } from './types.js'
import {
  checkClientId,
  checkCompaction,
  checkDisplayName,
  checkPasswordHash,
  checkRole,
  checkTenantId,
  checkUpdate,
  checkUsername,
  duplicateTenant,
  duplicateUser,
  unknownTenant,
  unknownUser,
} from './validate.js'
import { USER_COLUMNS, bytes, toTenant, toUser } from './rows.js'
import type { DocumentRow, TenantRow, UserRow } from './rows.js'

export interface PostgresStorageOptions {
  /** Clock for `createdAt` and friends; tests pin it. */
  readonly now?: () => number
  /**
   * The schema that holds every table; created on open if missing. Lowercase letters, digits, `_`.
   * @default 'public'
   */
  readonly schema?: string
  /**
   * Connections in the pool. Appends to one tenant serialise on its row whatever this is; more
   * connections let different tenants write at once.
   * @default 10
   */
  readonly poolSize?: number
  /**
   * How long a call waits for a connection (a new one, or a free one from a full pool) before it
   * fails with 'unavailable'.
   * @default 10000 — rides out a busy pool; an unreachable server fails fast anyway.
   */
  readonly connectTimeoutMs?: number
  /** Shown in `pg_stat_activity`. @default 'quartermaster' */
  readonly applicationName?: string
  /**
   * Called when an idle connection fails (the server restarted, the network dropped). The pool
   * drops that connection and the next call opens a new one.
   * @default a line on stderr
   */
  readonly onPoolError?: (error: Error) => void
}

/** The connection settings in force, for health checks and tests. */
export interface PostgresSettings {
  readonly schema: string
  readonly searchPath: string
  readonly synchronousCommit: string
  readonly serverVersion: string
  readonly poolSize: number
  readonly schemaVersion: number
}

export interface PostgresStorage extends Storage {
  readonly kind: 'postgres'
  readonly schema: string
  settings(): Promise<PostgresSettings>
}



/** Usernames match without regard to ASCII case, as in the unique index (the column is "C"). */
const USERNAME_IS = 'lower(username) = lower($2 COLLATE "C")'

/** A user-changing statement, and whether it changed a row and whether the tenant exists. */
const changeUser = async (db: Queryable, statement: string, values: readonly unknown[]) => {
  const { rows } = await db.query<{ changed: number; tenant_exists: boolean }>(
    `WITH changed AS (${statement} RETURNING 1)
     SELECT (SELECT count(*) FROM changed) AS changed, EXISTS (SELECT 1 FROM tenants WHERE id = $1) AS tenant_exists`,
    values,
  )
  return rows[0] ?? { changed: 0, tenant_exists: false }
}

export const openPostgresStorage = async (url: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> => {
  const now = options.now ?? Date.now
  const schema = options.schema ?? 'public'
  const poolSize = options.poolSize ?? 10
  checkSchemaName(schema)
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new StorageError('invalid', `a pool size must be a whole number above zero (got ${poolSize})`)

  const pool = createPool({
    url,
    schema,
    poolSize,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    applicationName: options.applicationName ?? 'quartermaster',
    onPoolError:
      options.onPoolError ??
      ((error) => console.error(`quartermaster: an idle Postgres connection failed (the pool replaces it): ${error.message}`)),
  })
  let closed = false
  let ended: Promise<void> | undefined
  const h = poolHelpers(pool, 'postgres', () => closed, now)

  let schemaVersion: number
  try {
    schemaVersion = await h.transaction('migrating the Postgres schema', (tx) => migratePostgres(tx, schema, now))
  } catch (error) {
    closed = true
    try {
      await pool.end()
    } catch (endError) {
      const first = error instanceof Error ? error.message : String(error)
      throw new StorageError('unavailable', `${first}; closing the pool afterwards failed too: ${String(endError)}`, { cause: error })
    }
    throw error
  }

  const missingUser = (tenant: string, username: string, row: { tenant_exists: boolean }): StorageError =>
    row.tenant_exists ? unknownUser(tenant, username) : unknownTenant(tenant)

  return {
    ...postgresSnapshotStores(h),
    ...postgresAlertStores(h),
    kind: 'postgres',
    schema,

    settings: () =>
      h.run('reading settings', async (db) => {
        const { rows } = await db.query<{ search_path: string; synchronous_commit: string; server_version: string }>(
          `SELECT current_setting('search_path') AS search_path, current_setting('synchronous_commit') AS synchronous_commit,
                  current_setting('server_version') AS server_version`,
        )
        const row = rows[0]
        if (!row) throw new Error('the settings query returned no row')
        return { schema, searchPath: row.search_path, synchronousCommit: row.synchronous_commit, serverVersion: row.server_version, poolSize, schemaVersion }
      }),

    async close() {
      closed = true
      ended ??= pool.end()
      try {
        await ended
      } catch (error) {
        throw new StorageError('unavailable', `closing the Postgres pool failed: ${String(error)}`, { cause: error })
      }
    },

    async loadDocument(tenant) {
      return h.transaction(
        'loading a document',
        async (tx): Promise<StoredDocument> => {
          const head = (await tx.query<DocumentRow>('SELECT state, compacted_through, last_seq FROM documents WHERE tenant = $1', [tenant])).rows[0]
          if (!head) throw unknownTenant(tenant)
          const updates = await tx.query<{ bytes: Buffer }>('SELECT bytes FROM document_updates WHERE tenant = $1 ORDER BY seq', [tenant])
          return {
            state: head.state === null ? null : bytes(head.state),
            updates: updates.rows.map((row) => bytes(row.bytes)),
            compactedThrough: head.compacted_through,
            lastSeq: head.last_seq,
          }
        },
        'repeatable read read only',
      )
    },

    async appendUpdate(tenant, update) {
      checkUpdate(update)
      // Copied now: the caller may reuse its buffer before the pool has a connection for us.
      const copy = Buffer.from(update)
      return h.run('appending an update', async (db) => {
        // One statement, so one transaction that has committed when it returns. The UPDATE takes
        // the tenant's row lock first: a concurrent append waits, then numbers after us.
        const { rows } = await db.query<{ seq: number }>(
          `WITH head AS (
             UPDATE documents SET last_seq = last_seq + 1, stored_bytes = stored_bytes + $2 WHERE tenant = $1 RETURNING last_seq
           )
           INSERT INTO document_updates (tenant, seq, bytes, appended_at)
           SELECT $1, last_seq, $3::bytea, $4::bigint FROM head RETURNING seq`,
          [tenant, copy.byteLength, copy, now()],
        )
        const row = rows[0]
        if (!row) throw unknownTenant(tenant)
        return row.seq
      })
    },

    async compactDocument(tenant, state, throughSeq) {
      // Copied now, as in appendUpdate; checkCompaction below refuses anything that is not bytes.
      const copy = state instanceof Uint8Array ? Buffer.from(state) : state
      return h.transaction('compacting a document', async (tx) => {
        const head = (
          await tx.query<DocumentRow>('SELECT NULL AS state, compacted_through, last_seq FROM documents WHERE tenant = $1 FOR UPDATE', [tenant])
        ).rows[0]
        if (!head) throw unknownTenant(tenant)
        checkCompaction(tenant, copy, throughSeq, { compactedThrough: head.compacted_through, lastSeq: head.last_seq })
        await tx.query('DELETE FROM document_updates WHERE tenant = $1 AND seq <= $2', [tenant, throughSeq])
        // Appends wait on the row lock we hold, so the remaining updates cannot change under us.
        await tx.query(
          `UPDATE documents SET state = $2::bytea, compacted_through = $3,
             stored_bytes = octet_length($2::bytea) + (SELECT COALESCE(SUM(octet_length(bytes)), 0) FROM document_updates WHERE tenant = $1)
           WHERE tenant = $1`,
          [tenant, copy, throughSeq],
        )
      })
    },

    async documentSize(tenant) {
      return h.run('measuring a document', async (db) => {
        const row = (await db.query<{ stored_bytes: number }>('SELECT stored_bytes FROM documents WHERE tenant = $1', [tenant])).rows[0]
        if (!row) throw unknownTenant(tenant)
        return row.stored_bytes
      })
    },

    async createTenant({ id, name }) {
      checkTenantId(id)
      checkDisplayName('tenant name', name)
      return h.run('creating a tenant', async (db) => {
        const createdAt = now()
        try {
          // One statement: the tenant and its document row exist together or not at all.
          await db.query(
            `WITH tenant AS (INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) RETURNING id)
             INSERT INTO documents (tenant) SELECT id FROM tenant`,
            [id, name, createdAt],
          )
        } catch (error) {
          if (isUniqueViolation(error)) throw duplicateTenant(id)
          throw error
        }
        return { id, name, createdAt }
      })
    },

    async getTenant(id) {
      return h.run('reading a tenant', async (db) => {
        const row = (await db.query<TenantRow>('SELECT id, name, created_at FROM tenants WHERE id = $1', [id])).rows[0]
        return row ? toTenant(row) : undefined
      })
    },

    async listTenants() {
      return h.run('listing tenants', async (db) => (await db.query<TenantRow>('SELECT id, name, created_at FROM tenants ORDER BY id')).rows.map(toTenant))
    },

    async createUser(user) {
      checkUsername(user.username)
      checkDisplayName('display name', user.name)
      checkRole(user.role)
      checkPasswordHash(user.passwordHash)
      const { tenant, username, name, role, passwordHash } = user
      return h.run('creating a user', async (db) => {
        const record: UserRecord = { id: newId('u'), tenant, username, name, role, passwordHash, createdAt: now() }
        try {
          await db.query(`INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
            record.id,
            record.tenant,
            record.username,
            record.name,
            record.role,
            record.passwordHash,
            record.createdAt,
          ])
        } catch (error) {
          if (isForeignKeyViolation(error)) throw unknownTenant(tenant)
          if (isUniqueViolation(error)) throw duplicateUser(tenant, username)
          throw error
        }
        return record
      })
    },

    async getUserByName(tenant, username) {
      return h.run('reading a user', async (db) => {
        const row = (await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant = $1 AND ${USERNAME_IS}`, [tenant, username])).rows[0]
        return row ? toUser(row) : undefined
      })
    },

    async getUser(tenant, id) {
      return h.run('reading a user', async (db) => {
        const row = (await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant = $1 AND id = $2`, [tenant, id])).rows[0]
        return row ? toUser(row) : undefined
      })
    },

    async listUsers(tenant) {
      return h.run('listing users', async (db) => {
        // One statement: no row at all means no tenant; a row of NULLs means a tenant without users.
        const { rows } = await db.query<UserRow | { [K in keyof UserRow]: null }>(
          `SELECT ${USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}
           FROM tenants t LEFT JOIN users u ON u.tenant = t.id WHERE t.id = $1 ORDER BY lower(u.username)`,
          [tenant],
        )
        if (rows.length === 0) throw unknownTenant(tenant)
        return rows.flatMap((row) => (row.id === null ? [] : [toUser(row)]))
      })
    },

    async setUserRole(tenant, username, role) {
      checkRole(role)
      return h.run('changing a role', async (db) => {
        const row = await changeUser(db, `UPDATE users SET role = $3 WHERE tenant = $1 AND ${USERNAME_IS}`, [tenant, username, role])
        if (row.changed === 0) throw missingUser(tenant, username, row)
      })
    },

    async setUserPassword(tenant, username, passwordHash) {
      checkPasswordHash(passwordHash)
      return h.run('changing a password', async (db) => {
        const row = await changeUser(db, `UPDATE users SET password_hash = $3 WHERE tenant = $1 AND ${USERNAME_IS}`, [tenant, username, passwordHash])
        if (row.changed === 0) throw missingUser(tenant, username, row)
      })
    },

    async removeUser(tenant, username) {
      return h.run('removing a user', async (db) => {
        // Client ids the user claimed stay claimed by the removed id: nobody else may write with them.
        const row = await changeUser(db, `DELETE FROM users WHERE tenant = $1 AND ${USERNAME_IS}`, [tenant, username])
        if (row.changed === 0) throw missingUser(tenant, username, row)
      })
    },

    async claimClientId(tenant, clientId, userId) {
      checkClientId(clientId)
      return h.run('claiming a client id', async (db) => {
        // First writer wins: a concurrent claim of the same id waits for ours to commit and then
        // inserts nothing. The SELECT is a new statement, so it sees whichever claim committed.
        try {
          const claimed = await db.query<{ user_id: string }>(
            `INSERT INTO client_ids (tenant, client_id, user_id, claimed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, client_id) DO NOTHING RETURNING user_id`,
            [tenant, clientId, userId, now()],
          )
          if (claimed.rows[0]) return claimed.rows[0].user_id
        } catch (error) {
          if (isForeignKeyViolation(error)) throw unknownTenant(tenant)
          throw error
        }
        const owner = (await db.query<{ user_id: string }>('SELECT user_id FROM client_ids WHERE tenant = $1 AND client_id = $2', [tenant, clientId])).rows[0]
        if (!owner) throw new StorageError('unavailable', `client id ${clientId} was neither claimed nor found`)
        return owner.user_id
      })
    },

    async clientIdOwners(tenant, clientIds) {
      const valid = clientIds.filter((id) => Number.isSafeInteger(id) && id >= 0)
      return h.run('reading client id owners', async (db) => {
        const owners = new Map<number, string>()
        if (valid.length === 0) return owners
        const { rows } = await db.query<{ client_id: number; user_id: string }>(
          'SELECT client_id, user_id FROM client_ids WHERE tenant = $1 AND client_id = ANY ($2::bigint[])',
          [tenant, valid],
        )
        for (const row of rows) owners.set(row.client_id, row.user_id)
        return owners
      })
    },
  }
}
