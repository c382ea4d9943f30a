/**
 * Schema migrations for the Postgres store. They run when a storage opens, all in one transaction
 * that first takes a transaction-level advisory lock, so several server instances starting at the
 * same moment on one database apply each migration exactly once: the first applies, the others
 * wait for its COMMIT and then find nothing left to do. Versions are recorded in
 * `schema_migrations` in the store's schema. A migration that has shipped is never edited; later
 * ones (alerts, history) are appended.
 */
import { escapeIdentifier } from 'pg'
import { POSTGRES_ALERTS_MIGRATION } from './postgres-alerts.js'
import { SNAPSHOT_TABLES_SQL } from './postgres-snapshots.js'
import type { Queryable } from './postgres-pool.js'
import { StorageError } from './types.js'

export interface PostgresMigration {
  /** 1, 2, 3, … in order, no gaps. */
  readonly version: number
  readonly name: string
  /** One or more statements, run with the store's schema first on the search path. */
  readonly sql: string
}

/**
 * The advisory lock every Quartermaster migration takes (any schema, any database user): the
 * ASCII of "QMmigr". Fixed, so that instances of different builds exclude each other too.
 */
export const MIGRATION_LOCK_KEY = 0x514d_6d69_6772

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'tenants, users, documents, client ids, snapshots, audit log',
    // The tables of SQLite migrations 1 and 2. Ids, usernames and tenant ids use the "C" collation:
    // byte order, as SQLite's BINARY and NOCASE, whatever the database's locale; lower() under "C"
    // folds ASCII only, as NOCASE does. Times are milliseconds since the epoch (bigint).
    sql: `
      CREATE TABLE tenants (
        id         text COLLATE "C" PRIMARY KEY,
        name       text NOT NULL,
        created_at bigint NOT NULL
      );

      -- Usernames are unique within a tenant without regard to case ("Alice" and "alice" are one user).
      CREATE TABLE users (
        id            text COLLATE "C" PRIMARY KEY,
        tenant        text COLLATE "C" NOT NULL REFERENCES tenants (id),
        username      text COLLATE "C" NOT NULL,
        name          text NOT NULL,
        role          text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
        password_hash text NOT NULL,
        created_at    bigint NOT NULL
      );
      CREATE UNIQUE INDEX users_tenant_username ON users (tenant, lower(username));

      -- One row per tenant, created with the tenant. Appends lock this row, so they serialise per
      -- tenant; last_seq never goes back, even when compaction deletes every update. stored_bytes =
      -- length(state) + the lengths of the remaining updates.
      CREATE TABLE documents (
        tenant            text COLLATE "C" PRIMARY KEY REFERENCES tenants (id),
        state             bytea,
        compacted_through bigint NOT NULL DEFAULT 0,
        last_seq          bigint NOT NULL DEFAULT 0,
        stored_bytes      bigint NOT NULL DEFAULT 0
      );

      CREATE TABLE document_updates (
        tenant      text COLLATE "C" NOT NULL REFERENCES documents (tenant),
        seq         bigint NOT NULL,
        bytes       bytea NOT NULL,
        appended_at bigint NOT NULL,
        PRIMARY KEY (tenant, seq)
      );

      -- No foreign key to users: a removed user's client ids stay claimed by the removed id.
      CREATE TABLE client_ids (
        tenant     text COLLATE "C" NOT NULL REFERENCES tenants (id),
        client_id  bigint NOT NULL CHECK (client_id >= 0),
        user_id    text COLLATE "C" NOT NULL,
        claimed_at bigint NOT NULL,
        PRIMARY KEY (tenant, client_id)
      );
    ` + SNAPSHOT_TABLES_SQL,
  },
  POSTGRES_ALERTS_MIGRATION,
]

/**
 * Brings `schema` up to the latest migration, creating the schema if it is missing. Resolves to the
 * schema version. Safe when several processes open one database at once.
 */
export const migratePostgres = async (
  db: Queryable,
  schema: string,
  now: () => number,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number> => {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`)
  })
  const latest = migrations.length
  const name = escapeIdentifier(schema)
  // READ COMMITTED (the caller's transaction): each statement after the lock sees what the
  // instance that held the lock before us committed. REPEATABLE READ would keep the snapshot taken
  // while we waited, and apply migration 1 a second time.
  await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
  // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema
  // exists; look first, so that a role that may only use an existing schema can open it.
  const exists = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
  if (exists.rowCount === 0) await db.query(`CREATE SCHEMA ${name}`)
  await db.query(`SET LOCAL search_path TO ${name}`)
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at bigint NOT NULL
  )`)
  const row = (await db.query<{ version: number }>('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations')).rows[0]
  const current = row?.version ?? 0
  if (current > latest) {
    throw new StorageError(
      'unavailable',
      `schema ${JSON.stringify(schema)} is at version ${current} but this build knows only ${latest}: it was written by a newer Quartermaster`,
    )
  }
  for (const m of migrations.slice(current)) {
    await db.query(m.sql)
    await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()])
  }
  return latest
}
