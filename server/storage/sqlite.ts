/**
 * The embedded default Storage: one SQLite file, `${dataDir}/quartermaster.db`, on better-sqlite3.
 *
 * - WAL with `synchronous = FULL`: a commit is fsynced before appendUpdate resolves, so neither a
 *   SIGKILL nor a power cut loses an update the relay acknowledged.
 * - `busy_timeout`: the `qm` CLI and the server may write at the same time; the loser waits.
 * - Every write transaction is IMMEDIATE (takes the write lock first) and synchronous: no async
 *   work ever happens inside a transaction.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { sqliteAlertStores } from './sqlite-alerts.js'
import { sqliteSnapshotStores } from './sqlite-snapshots.js'
import type { Role } from '../../sync/origin.js'
import { newId } from '../../sync/ids.js'
import { migrate } from './sqlite-migrations.js'
import { StorageError, type Storage, type StoredDocument, type TenantRecord, type UserRecord } from './types.js'
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
  storageClosed,
  unknownTenant,
  unknownUser,
} from './validate.js'
import { USER_COLUMNS, bytes, toTenant, toUser } from './rows.js'
import type { DocumentRow, TenantRow, UserRow } from './rows.js'

export const SQLITE_FILE_NAME = 'quartermaster.db'

export interface SqliteStorageOptions {
  /** Clock for `createdAt` and friends; tests pin it. */
  readonly now?: () => number
  /**
   * How long a writer waits for another process's write lock before failing with 'unavailable'.
   * @default 5000 — the CLI's writes take milliseconds; five seconds rides out a compaction.
   */
  readonly busyTimeoutMs?: number
}

/** The connection settings in force, for health checks and tests. */
export interface SqliteSettings {
  readonly path: string
  readonly journalMode: string
  /** 2 = FULL */
  readonly synchronous: number
  readonly foreignKeys: boolean
  readonly busyTimeoutMs: number
  readonly schemaVersion: number
}

export interface SqliteStorage extends Storage {
  readonly kind: 'sqlite'
  readonly path: string
  settings(): SqliteSettings
}




/** better-sqlite3's error class carries SQLite's extended result code, e.g. 'SQLITE_BUSY'. */
const sqliteCode = (error: unknown): string | undefined =>
  error instanceof Database.SqliteError ? error.code : undefined

/** Turns anything the driver throws into a StorageError; our own StorageErrors pass through. */
const asStorageError = (operation: string, error: unknown): StorageError => {
  if (error instanceof StorageError) return error
  const code = sqliteCode(error)
  const detail = error instanceof Error ? error.message : String(error)
  if (code?.startsWith('SQLITE_CONSTRAINT')) {
    return new StorageError('conflict', `${operation} failed: ${detail}`, { cause: error })
  }
  return new StorageError('unavailable', `${operation} failed: ${detail}`, { cause: error })
}

export const openSqliteStorage = (dataDir: string, options: SqliteStorageOptions = {}): SqliteStorage => {
  const now = options.now ?? Date.now
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const path = join(dataDir, SQLITE_FILE_NAME)

  let db: Database.Database
  let schemaVersion: number
  try {
    mkdirSync(dataDir, { recursive: true })
    db = new Database(path, { timeout: busyTimeoutMs })
  } catch (error) {
    throw asStorageError(`opening ${path}`, error)
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    schemaVersion = migrate(db, now)
  } catch (error) {
    db.close()
    throw asStorageError(`opening ${path}`, error)
  }

  const statements = {
    documentHead: db.prepare<[string], DocumentRow>(
      `SELECT s.state, d.compacted_through, d.last_seq
         FROM documents d LEFT JOIN document_states s ON s.tenant = d.tenant WHERE d.tenant = ?`,
    ),
    documentUpdates: db.prepare<[string], { bytes: Buffer }>(
      'SELECT bytes FROM document_updates WHERE tenant = ? ORDER BY seq',
    ),
    nextSeq: db.prepare<[number, string], { last_seq: number }>(
      'UPDATE documents SET last_seq = last_seq + 1, stored_bytes = stored_bytes + ? WHERE tenant = ? RETURNING last_seq',
    ),
    insertUpdate: db.prepare<[string, number, Uint8Array, number]>(
      'INSERT INTO document_updates (tenant, seq, bytes, appended_at) VALUES (?, ?, ?, ?)',
    ),
    deleteUpdatesThrough: db.prepare<[string, number]>('DELETE FROM document_updates WHERE tenant = ? AND seq <= ?'),
    saveState: db.prepare<[string, Uint8Array]>(
      'INSERT INTO document_states (tenant, state) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET state = excluded.state',
    ),
    saveCompaction: db.prepare<[{ size: number; throughSeq: number; tenant: string }]>(
      `UPDATE documents SET compacted_through = @throughSeq,
         stored_bytes = @size + (SELECT COALESCE(SUM(length(bytes)), 0) FROM document_updates WHERE tenant = @tenant)
       WHERE tenant = @tenant`,
    ),
    documentSize: db.prepare<[string], { stored_bytes: number }>('SELECT stored_bytes FROM documents WHERE tenant = ?'),
    insertTenant: db.prepare<[string, string, number]>('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)'),
    insertDocument: db.prepare<[string]>('INSERT INTO documents (tenant) VALUES (?)'),
    tenant: db.prepare<[string], TenantRow>('SELECT id, name, created_at FROM tenants WHERE id = ?'),
    tenants: db.prepare<[], TenantRow>('SELECT id, name, created_at FROM tenants ORDER BY id'),
    insertUser: db.prepare<[string, string, string, string, Role, string, number]>(
      `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    userByName: db.prepare<[string, string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant = ? AND username = ?`),
    userById: db.prepare<[string, string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant = ? AND id = ?`),
    users: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant = ? ORDER BY username`),
    setRole: db.prepare<[Role, string, string]>('UPDATE users SET role = ? WHERE tenant = ? AND username = ?'),
    setPassword: db.prepare<[string, string, string]>('UPDATE users SET password_hash = ? WHERE tenant = ? AND username = ?'),
    deleteUser: db.prepare<[string, string]>('DELETE FROM users WHERE tenant = ? AND username = ?'),
    claimClientId: db.prepare<[string, number, string, number]>(
      'INSERT OR IGNORE INTO client_ids (tenant, client_id, user_id, claimed_at) VALUES (?, ?, ?, ?)',
    ),
    clientIdOwner: db.prepare<[string, number], { user_id: string }>(
      'SELECT user_id FROM client_ids WHERE tenant = ? AND client_id = ?',
    ),
  }

  let closed = false

  /** Runs one storage operation with the connection open, translating driver errors. */
  const run = <T>(operation: string, body: () => T): T => {
    if (closed) throw storageClosed('sqlite')
    try {
      return body()
    } catch (error) {
      throw asStorageError(operation, error)
    }
  }
  const requireTenant = (tenant: string): void => {
    if (!statements.tenant.get(tenant)) throw unknownTenant(tenant)
  }
  /** A write that touched no row: say whether the tenant or the user is missing. */
  const missingUser = (tenant: string, username: string): StorageError =>
    statements.tenant.get(tenant) ? unknownUser(tenant, username) : unknownTenant(tenant)

  const loadDocument = db.transaction((tenant: string): StoredDocument => {
    const head = statements.documentHead.get(tenant)
    if (!head) throw unknownTenant(tenant)
    return {
      state: head.state === null ? null : bytes(head.state),
      updates: statements.documentUpdates.all(tenant).map((row) => bytes(row.bytes)),
      compactedThrough: head.compacted_through,
      lastSeq: head.last_seq,
    }
  })

  const appendUpdate = db.transaction((tenant: string, update: Uint8Array): number => {
    const row = statements.nextSeq.get(update.byteLength, tenant)
    if (!row) throw unknownTenant(tenant)
    statements.insertUpdate.run(tenant, row.last_seq, update, now())
    return row.last_seq
  })

  const compactDocument = db.transaction((tenant: string, state: Uint8Array, throughSeq: number): void => {
    const head = statements.documentHead.get(tenant)
    if (!head) throw unknownTenant(tenant)
    checkCompaction(tenant, state, throughSeq, { compactedThrough: head.compacted_through, lastSeq: head.last_seq })
    statements.deleteUpdatesThrough.run(tenant, throughSeq)
    statements.saveState.run(tenant, state)
    statements.saveCompaction.run({ size: state.byteLength, throughSeq, tenant })
  })

  const createTenant = db.transaction((id: string, name: string): TenantRecord => {
    if (statements.tenant.get(id)) throw duplicateTenant(id)
    const createdAt = now()
    statements.insertTenant.run(id, name, createdAt)
    statements.insertDocument.run(id)
    return { id, name, createdAt }
  })

  const createUser = db.transaction(
    (user: { tenant: string; username: string; name: string; role: Role; passwordHash: string }): UserRecord => {
      requireTenant(user.tenant)
      if (statements.userByName.get(user.tenant, user.username)) throw duplicateUser(user.tenant, user.username)
      const record: UserRecord = { id: newId('u'), ...user, createdAt: now() }
      statements.insertUser.run(record.id, record.tenant, record.username, record.name, record.role, record.passwordHash, record.createdAt)
      return record
    },
  )

  const claimClientId = db.transaction((tenant: string, clientId: number, userId: string): string => {
    requireTenant(tenant)
    statements.claimClientId.run(tenant, clientId, userId, now())
    const owner = statements.clientIdOwner.get(tenant, clientId)
    if (!owner) throw new StorageError('unavailable', `client id ${clientId} was neither claimed nor found`)
    return owner.user_id
  })

  const clientIdOwners = db.transaction((tenant: string, clientIds: readonly number[]): Map<number, string> => {
    const owners = new Map<number, string>()
    for (const clientId of clientIds) {
      if (!Number.isSafeInteger(clientId) || clientId < 0) continue
      const owner = statements.clientIdOwner.get(tenant, clientId)
      if (owner) owners.set(clientId, owner.user_id)
    }
    return owners
  })

  return {
    ...sqliteSnapshotStores(db, { run, requireTenant, now }),
    ...sqliteAlertStores(db, { run, requireTenant, now }),
    kind: 'sqlite',
    path,

    settings: () =>
      run('reading settings', () => ({
        path,
        journalMode: String(db.pragma('journal_mode', { simple: true })),
        synchronous: Number(db.pragma('synchronous', { simple: true })),
        foreignKeys: Number(db.pragma('foreign_keys', { simple: true })) === 1,
        busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
        schemaVersion,
      })),

    async close() {
      if (closed) return
      closed = true
      try {
        db.close()
      } catch (error) {
        throw asStorageError(`closing ${path}`, error)
      }
    },

    async loadDocument(tenant) {
      return run('loading a document', () => loadDocument(tenant))
    },

    async appendUpdate(tenant, update) {
      checkUpdate(update)
      return run('appending an update', () => appendUpdate.immediate(tenant, update))
    },

    async compactDocument(tenant, state, throughSeq) {
      return run('compacting a document', () => compactDocument.immediate(tenant, state, throughSeq))
    },

    async documentSize(tenant) {
      return run('measuring a document', () => {
        const row = statements.documentSize.get(tenant)
        if (!row) throw unknownTenant(tenant)
        return row.stored_bytes
      })
    },

    async createTenant({ id, name }) {
      checkTenantId(id)
      checkDisplayName('tenant name', name)
      return run('creating a tenant', () => createTenant.immediate(id, name))
    },

    async getTenant(id) {
      return run('reading a tenant', () => {
        const row = statements.tenant.get(id)
        return row ? toTenant(row) : undefined
      })
    },

    async listTenants() {
      return run('listing tenants', () => statements.tenants.all().map(toTenant))
    },

    async createUser(user) {
      checkUsername(user.username)
      checkDisplayName('display name', user.name)
      checkRole(user.role)
      checkPasswordHash(user.passwordHash)
      const { tenant, username, name, role, passwordHash } = user
      return run('creating a user', () => createUser.immediate({ tenant, username, name, role, passwordHash }))
    },

    async getUserByName(tenant, username) {
      return run('reading a user', () => {
        const row = statements.userByName.get(tenant, username)
        return row ? toUser(row) : undefined
      })
    },

    async getUser(tenant, id) {
      return run('reading a user', () => {
        const row = statements.userById.get(tenant, id)
        return row ? toUser(row) : undefined
      })
    },

    async listUsers(tenant) {
      return run('listing users', () => {
        requireTenant(tenant)
        return statements.users.all(tenant).map(toUser)
      })
    },

    async setUserRole(tenant, username, role) {
      checkRole(role)
      return run('changing a role', () => {
        if (statements.setRole.run(role, tenant, username).changes === 0) throw missingUser(tenant, username)
      })
    },

    async setUserPassword(tenant, username, passwordHash) {
      checkPasswordHash(passwordHash)
      return run('changing a password', () => {
        if (statements.setPassword.run(passwordHash, tenant, username).changes === 0) throw missingUser(tenant, username)
      })
    },

    async removeUser(tenant, username) {
      return run('removing a user', () => {
        // Client ids the user claimed stay claimed by the removed id: nobody else may write with them.
        if (statements.deleteUser.run(tenant, username).changes === 0) throw missingUser(tenant, username)
      })
    },

    async claimClientId(tenant, clientId, userId) {
      checkClientId(clientId)
      return run('claiming a client id', () => claimClientId.immediate(tenant, clientId, userId))
    },

    async clientIdOwners(tenant, clientIds) {
      return run('reading client id owners', () => clientIdOwners(tenant, clientIds))
    },
  }
}
