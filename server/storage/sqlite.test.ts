/** What only the SQLite store has to prove: its file, its settings, migrations, and real crashes. */
import { spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { killTestUpdate } from '../../test/support/sqlite-kill-test-update.js'
import { MIGRATIONS, migrate } from './sqlite-migrations.js'
import { openSqliteStorage, SQLITE_FILE_NAME } from './sqlite.js'
import { StorageError } from './types.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

describe('SQLite storage', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qm-sqlite-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('[STORE-1] keeps quartermaster.db in the data dir, in WAL mode with synchronous FULL and foreign keys', async () => {
    const dataDir = join(dir, 'nested', 'data')
    const storage = openSqliteStorage(dataDir, { busyTimeoutMs: 1234 })
    try {
      expect(storage.path).toBe(join(dataDir, SQLITE_FILE_NAME))
      expect(existsSync(storage.path)).toBe(true)
      expect(storage.settings()).toEqual({
        path: storage.path,
        journalMode: 'wal',
        synchronous: 2,
        foreignKeys: true,
        busyTimeoutMs: 1234,
        schemaVersion: MIGRATIONS.length,
      })
    } finally {
      await storage.close()
    }
  })

  it('[STORE-1] every update whose append resolved survives a SIGKILL of the writing process', async () => {
    const setup = openSqliteStorage(dir)
    await setup.createTenant({ id: 'acme', name: 'Acme' })
    await setup.close()

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/sqlite-append-until-killed.ts', dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    let acknowledged = 0
    let buffered = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) acknowledged = Number(line)
        // Kill mid-stream, while appends are still in flight.
        if (acknowledged >= 300) {
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)))
    })
    expect(await exited).toBe('SIGKILL')

    const storage = openSqliteStorage(dir)
    try {
      const doc = await storage.loadDocument('acme')
      expect(doc.lastSeq).toBeGreaterThanOrEqual(acknowledged)
      expect(doc.updates.length).toBe(doc.lastSeq)
      for (let i = 1; i <= doc.lastSeq; i++) expect(doc.updates[i - 1]).toEqual(killTestUpdate(i))
    } finally {
      await storage.close()
    }
  })

  it('[STORE-10] two open handles on one data dir (server and CLI) see each other\'s writes', async () => {
    const server = openSqliteStorage(dir)
    const cli = openSqliteStorage(dir)
    try {
      await cli.createTenant({ id: 'acme', name: 'Acme' })
      expect(await server.getTenant('acme')).toMatchObject({ id: 'acme' })
      const [a, b] = await Promise.all([server.appendUpdate('acme', new Uint8Array([1])), cli.appendUpdate('acme', new Uint8Array([2]))])
      expect(new Set([a, b])).toEqual(new Set([1, 2]))
      const alice = await cli.createUser({ tenant: 'acme', username: 'alice', name: 'Alice', role: 'editor', passwordHash: 'h' })
      await cli.setUserRole('acme', 'alice', 'viewer')
      expect(await server.getUser('acme', alice.id)).toMatchObject({ role: 'viewer' })
      expect((await server.loadDocument('acme')).lastSeq).toBe(2)
    } finally {
      await server.close()
      await cli.close()
    }
  })

  it('[STORE-11] migrations run once and are recorded; a database from a newer build is refused', async () => {
    await openSqliteStorage(dir).close()
    await openSqliteStorage(dir).close()
    const path = join(dir, SQLITE_FILE_NAME)
    const db = new Database(path)
    try {
      const applied = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
      expect(applied).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(MIGRATIONS.length + 1, 'from the future', 0)
    } finally {
      db.close()
    }
    let error: unknown
    try {
      openSqliteStorage(dir)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('unavailable')
    expect((error as StorageError).message).toContain('newer')
  })

  it('[STORE-12] an append writes only the update, however large the compacted state (WAL growth, not time)', async () => {
    const storage = openSqliteStorage(dir)
    const path = join(dir, SQLITE_FILE_NAME)
    try {
      await storage.createTenant({ id: 'acme', name: 'Acme' })
      await storage.appendUpdate('acme', new Uint8Array([1, 2, 3]))
      const state = new Uint8Array(4 * 1024 * 1024).fill(7)
      await storage.compactDocument('acme', state, 1)
      const other = new Database(path)
      try {
        other.pragma('wal_checkpoint(TRUNCATE)')
      } finally {
        other.close()
      }
      expect(statSync(`${path}-wal`).size).toBe(0)
      for (let i = 0; i < 10; i++) await storage.appendUpdate('acme', new Uint8Array(300).fill(i + 1))
      // Ten small appends: a few pages each. Rewriting the state would add 40 MiB.
      expect(statSync(`${path}-wal`).size).toBeLessThan(512 * 1024)
      const loaded = await storage.loadDocument('acme')
      expect(loaded.state && Buffer.compare(loaded.state, state)).toBe(0) // (toEqual walks 4 MiB slowly)
      expect(loaded.updates).toHaveLength(10)
      expect(await storage.documentSize('acme')).toBe(state.length + 3000)
    } finally {
      await storage.close()
    }
  })

  it('[STORE-11] migration 4 moves compacted states out of the documents row and keeps them', async () => {
    const path = join(dir, SQLITE_FILE_NAME)
    const db = new Database(path)
    try {
      migrate(db, () => 1, MIGRATIONS.slice(0, 3))
      db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run('acme', 'Acme', 1)
      db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run('fresh', 'Fresh', 1)
      db.prepare('INSERT INTO documents (tenant, state, compacted_through, last_seq, stored_bytes) VALUES (?, ?, ?, ?, ?)').run('acme', Buffer.from([9, 8, 7]), 4, 5, 4)
      db.prepare('INSERT INTO documents (tenant) VALUES (?)').run('fresh')
      db.prepare('INSERT INTO document_updates (tenant, seq, bytes, appended_at) VALUES (?, ?, ?, ?)').run('acme', 5, Buffer.from([1]), 1)
    } finally {
      db.close()
    }
    const storage = openSqliteStorage(dir)
    try {
      expect(await storage.loadDocument('acme')).toEqual({ state: new Uint8Array([9, 8, 7]), updates: [new Uint8Array([1])], compactedThrough: 4, lastSeq: 5 })
      expect(await storage.loadDocument('fresh')).toEqual({ state: null, updates: [], compactedThrough: 0, lastSeq: 0 })
      expect(await storage.appendUpdate('acme', new Uint8Array([2]))).toBe(6)
      await storage.compactDocument('acme', new Uint8Array([6, 6]), 6)
      expect(await storage.loadDocument('acme')).toEqual({ state: new Uint8Array([6, 6]), updates: [], compactedThrough: 6, lastSeq: 6 })
      expect(await storage.documentSize('acme')).toBe(2)
    } finally {
      await storage.close()
    }
  })
})
