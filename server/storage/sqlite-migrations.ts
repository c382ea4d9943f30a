/**
 * Schema migrations for the SQLite store. Each migration runs once, in its own IMMEDIATE
 * transaction, and is recorded in `schema_migrations`; `PRAGMA user_version` mirrors the latest
 * version for tools that only look there. Later issues append migrations (snapshots, alerts,
 * history); a migration that has shipped is never edited.
 */
import type Database from 'better-sqlite3'
import { StorageError } from './types.js'
import { ALERTS_MIGRATION } from './sqlite-alerts.js'
import { SNAPSHOTS_MIGRATION } from './sqlite-snapshots.js'

export interface Migration {
  /** 1, 2, 3, … in order, no gaps. */
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants, users, documents, client ids',
    sql: `
      CREATE TABLE tenants (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Usernames are unique within a tenant without regard to case ("Alice" and "alice" are one user).
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        tenant        TEXT NOT NULL REFERENCES tenants (id),
        username      TEXT NOT NULL COLLATE NOCASE,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        UNIQUE (tenant, username)
      ) STRICT;

      -- One row per tenant, created with the tenant. last_seq numbers updates per tenant and never
      -- goes back, even when compaction deletes every update. stored_bytes = length(state) + the
      -- lengths of the remaining updates, kept so that the relay's size check costs one row read.
      CREATE TABLE documents (
        tenant            TEXT PRIMARY KEY REFERENCES tenants (id),
        state             BLOB,
        compacted_through INTEGER NOT NULL DEFAULT 0,
        last_seq          INTEGER NOT NULL DEFAULT 0,
        stored_bytes      INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE document_updates (
        tenant      TEXT NOT NULL REFERENCES documents (tenant),
        seq         INTEGER NOT NULL,
        bytes       BLOB NOT NULL,
        appended_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, seq)
      ) STRICT;

      -- No foreign key to users: a removed user's client ids stay claimed by the removed id.
      CREATE TABLE client_ids (
        tenant     TEXT NOT NULL REFERENCES tenants (id),
        client_id  INTEGER NOT NULL,
        user_id    TEXT NOT NULL,
        claimed_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, client_id)
      ) STRICT;
    `,
  },
  SNAPSHOTS_MIGRATION,
  ALERTS_MIGRATION,
  {
    version: 4,
    name: 'compacted states in their own table',
    // SQLite rewrites a whole row when any column of it changes: with the compacted state in the
    // documents row, every append (which bumps last_seq) rewrote the state too, 28 ms per append
    // at 15 MB (bench/RESULTS.md, relays). The counters stay; the state moves out.
    sql: `
      CREATE TABLE document_states (
        tenant TEXT PRIMARY KEY REFERENCES documents (tenant),
        state  BLOB NOT NULL
      ) STRICT;
      INSERT INTO document_states (tenant, state) SELECT tenant, state FROM documents WHERE state IS NOT NULL;
      ALTER TABLE documents DROP COLUMN state;
    `,
  },
]

/** Brings the database up to the latest migration. Safe when several processes open it at once. */
export const migrate = (db: Database.Database, now: () => number, migrations: readonly Migration[] = MIGRATIONS): number => {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`)
  })
  const latest = migrations.length
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`)
    const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations').get() as { version: number }
    if (row.version > latest) {
      throw new StorageError(
        'unavailable',
        `the database is at schema version ${row.version} but this build knows only ${latest}: it was written by a newer Quartermaster`,
      )
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const m of migrations.slice(row.version)) {
      db.exec(m.sql)
      record.run(m.version, m.name, now())
    }
    // user_version takes no bound parameter; `latest` is an integer we computed.
    db.pragma(`user_version = ${latest}`)
  })
  // IMMEDIATE: take the write lock before reading the version, so two processes opening a fresh
  // database at once cannot both apply migration 1.
  run.immediate()
  return latest
}
