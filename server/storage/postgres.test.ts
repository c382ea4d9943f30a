/**
 * What only the Postgres store has to prove: its schema and connection settings, migrations when
 * several instances start at once, connection failures, consistency under concurrency across
 * instances, and real crashes. The shared contract runs in storage.test.ts.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adminQuery, freshSchema, testDatabaseUrl, type TestSchema } from '../../test/support/postgres.js'
import { killTestUpdate } from '../../test/support/sqlite-kill-test-update.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'
import { openPostgresStorage, type PostgresStorage } from './postgres.js'
import { StorageError, type Storage } from './types.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Resolves to the StorageError a promise rejected with, failing the test if it did not. */
const storageError = async (promise: Promise<unknown>): Promise<StorageError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(StorageError)
  return error as StorageError
}

const bytes = (seed: number, length = 16) => Uint8Array.from({ length }, (_, i) => (seed * 31 + i) & 0xff)

/** Checks that need no Postgres server: they run everywhere. */
describe('Postgres storage without a server', () => {
  // Nothing listens on port 1; the open must fail fast and say why.
  const nowhere = 'postgres://postgres@127.0.0.1:1/test'

  it('[PG-3] a schema name that is not a plain lowercase identifier, or a bad pool size, is refused as invalid before connecting', async () => {
    for (const name of ['', 'Public', 'a-b', 'a;drop', '1abc', 'pg_mine', 'x'.repeat(64)]) {
      const error = await storageError(openPostgresStorage(nowhere, { schema: name }))
      expect(error.code).toBe('invalid')
      expect(error.message).toContain('schema')
    }
    expect((await storageError(openPostgresStorage(nowhere, { poolSize: 0 }))).code).toBe('invalid')
  })

  it('[PG-4] an unreachable server fails the open with unavailable', async () => {
    const error = await storageError(openPostgresStorage(nowhere, { connectTimeoutMs: 2000 }))
    expect(error.code).toBe('unavailable')
    expect(error.message).toContain('migrating')
  })
})

const databaseUrl = testDatabaseUrl('the Postgres storage suite')
if (databaseUrl !== undefined) {
  const url = databaseUrl

  describe('Postgres storage', () => {
    let schema: TestSchema
    const opened: Storage[] = []
    /** Opens a store on this test's schema; closed after the test. */
    const open = async (options: Parameters<typeof openPostgresStorage>[1] = {}): Promise<PostgresStorage> => {
      const storage = await openPostgresStorage(url, { schema: schema.name, ...options })
      opened.push(storage)
      return storage
    }
    const tablesIn = async (name: string) =>
      (await adminQuery<{ table_name: string }>(url, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [name])).map(
        (r) => r.table_name,
      )
    const backends = async (applicationName: string) =>
      Number((await adminQuery<{ n: string }>(url, 'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]))[0]?.n)

    beforeEach(() => {
      schema = freshSchema(url)
    })
    afterEach(async () => {
      for (const storage of opened.splice(0)) await storage.close()
      await schema.drop()
    })

    it('[PG-3] creates its schema, keeps every table there, and runs each connection with synchronous_commit on', async () => {
      const storage = await open({ poolSize: 3 })
      expect(await storage.settings()).toMatchObject({
        schema: schema.name,
        searchPath: `${schema.name}`,
        synchronousCommit: 'on',
        poolSize: 3,
        schemaVersion: POSTGRES_MIGRATIONS.length,
      })
      expect(await tablesIn(schema.name)).toEqual([
        'alert_events',
        'alerts',
        'audit_log',
        'client_ids',
        'document_updates',
        'documents',
        'schema_migrations',
        'snapshots',
        'tenants',
        'users',
        'webhook_attempts',
        'webhook_deliveries',
        'webhooks',
      ])
      // Every connection of the pool, not just the first: fill the pool with concurrent calls.
      const settings = await Promise.all(Array.from({ length: 6 }, () => storage.settings()))
      expect(new Set(settings.map((s) => `${s.searchPath} ${s.synchronousCommit}`))).toEqual(new Set([`${schema.name} on`]))
    })

    it('[PG-1] storages migrating one fresh schema at the same moment all open, and each migration is applied once', async () => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => open({ poolSize: 1 })))
      const applied = await adminQuery<{ version: number; name: string }>(
        url,
        `SELECT version, name FROM ${schema.name}.schema_migrations ORDER BY version`,
      )
      expect(applied).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
      // And they all work on the one store.
      await stores[0]?.createTenant({ id: 'acme', name: 'Acme' })
      expect(await Promise.all(stores.map((s) => s.getTenant('acme').then((t) => t?.name)))).toEqual(['Acme', 'Acme', 'Acme', 'Acme'])
      // Opening again applies nothing.
      await open()
      expect(await adminQuery(url, `SELECT version FROM ${schema.name}.schema_migrations`)).toHaveLength(POSTGRES_MIGRATIONS.length)
    })

    it('[PG-2] a schema written by a newer build is refused with unavailable, and the refused store leaves no connection behind', async () => {
      await (await openPostgresStorage(url, { schema: schema.name })).close()
      await adminQuery(url, `INSERT INTO ${schema.name}.schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)`, [
        POSTGRES_MIGRATIONS.length + 1,
      ])
      const applicationName = `qm_newer_${schema.name}`
      const error = await storageError(openPostgresStorage(url, { schema: schema.name, applicationName }))
      expect(error.code).toBe('unavailable')
      expect(error.message).toContain('newer')
      await expect.poll(() => backends(applicationName)).toBe(0)
    })

    it('[PG-4] a closed store refuses every call with unavailable, and its connections are gone', async () => {
      const applicationName = `qm_closed_${schema.name}`
      const storage = await open({ applicationName })
      await storage.createTenant({ id: 'acme', name: 'Acme' })
      expect(await backends(applicationName)).toBeGreaterThan(0)
      await storage.close()
      await storage.close()
      await expect.poll(() => backends(applicationName)).toBe(0)
      const u = bytes(1)
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['loadDocument', () => storage.loadDocument('acme')],
        ['appendUpdate', () => storage.appendUpdate('acme', u)],
        ['compactDocument', () => storage.compactDocument('acme', u, 0)],
        ['documentSize', () => storage.documentSize('acme')],
        ['createTenant', () => storage.createTenant({ id: 'beta', name: 'Beta' })],
        ['getTenant', () => storage.getTenant('acme')],
        ['listTenants', () => storage.listTenants()],
        ['createUser', () => storage.createUser({ tenant: 'acme', username: 'al', name: 'Al', role: 'editor', passwordHash: 'h' })],
        ['getUserByName', () => storage.getUserByName('acme', 'al')],
        ['getUser', () => storage.getUser('acme', 'u_1')],
        ['listUsers', () => storage.listUsers('acme')],
        ['setUserRole', () => storage.setUserRole('acme', 'al', 'admin')],
        ['setUserPassword', () => storage.setUserPassword('acme', 'al', 'h2')],
        ['removeUser', () => storage.removeUser('acme', 'al')],
        ['claimClientId', () => storage.claimClientId('acme', 1, 'u_1')],
        ['clientIdOwners', () => storage.clientIdOwners('acme', [1])],
        ['saveSnapshot', () => storage.saveSnapshot({ tenant: 'acme', trigger: 'manual', createdBy: null, reason: '', itemCount: 0, totalUnits: 0, state: u })],
        ['listSnapshots', () => storage.listSnapshots('acme')],
        ['getSnapshot', () => storage.getSnapshot('acme', 'sn_1')],
        ['deleteSnapshot', () => storage.deleteSnapshot('acme', 'sn_1')],
        ['appendAudit', () => storage.appendAudit({ tenant: 'acme', actor: 'u_1', action: 'x', detail: null })],
        ['listAudit', () => storage.listAudit('acme')],
        ['getAlert', () => storage.getAlert('acme', 'al_1')],
        ['listAlerts', () => storage.listAlerts('acme')],
        ['resolveAlert', () => storage.resolveAlert('acme', 'al_1')],
        ['listWebhooks', () => storage.listWebhooks('acme')],
        ['listPendingDeliveries', () => storage.listPendingDeliveries()],
        ['settings', () => storage.settings()],
      ]
      for (const [name, call] of calls) {
        const error = await storageError(call())
        expect([name, error.code]).toEqual([name, 'unavailable'])
      }
    })

    it('[PG-4] when the server ends the connections (a restart, a failover), a call on a dead one fails with unavailable and new ones take over', async () => {
      const applicationName = `qm_killed_${schema.name}`
      const poolSize = 3
      // Idle connections that die are reported here rather than on stderr.
      const poolErrors: Error[] = []
      const storage = await open({ applicationName, poolSize, onPoolError: (e) => poolErrors.push(e) })
      await storage.createTenant({ id: 'acme', name: 'Acme' })
      // Concurrent, so that the pool holds several connections (their order is theirs to pick).
      const first = await Promise.all([1, 2, 3].map((i) => storage.appendUpdate('acme', bytes(i))))
      const killed = await adminQuery(url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName])
      expect(killed.length).toBeGreaterThan(0)
      // A connection whose end the pool has not noticed yet fails the call that gets it (never
      // retried: the caller keeps the update and does not acknowledge it), then is dropped. At
      // most one failure per dead connection; the update is stored once it succeeds.
      const stored: number[] = []
      for (let attempt = 0; attempt <= poolSize && stored.length === 0; attempt++) {
        try {
          stored.push(await storage.appendUpdate('acme', bytes(4)))
        } catch (error) {
          expect(error).toBeInstanceOf(StorageError)
          expect((error as StorageError).code).toBe('unavailable')
        }
      }
      expect(stored).toEqual([4])
      const doc = await storage.loadDocument('acme')
      expect(doc.updates).toHaveLength(4)
      first.forEach((seq, i) => expect(doc.updates[seq - 1]).toEqual(bytes(i + 1)))
      expect(doc.updates[3]).toEqual(bytes(4))
    })

    it('[PG-5] two instances on one schema: concurrent appends to a tenant serialise into one gapless sequence', async () => {
      const [a, b] = [await open({ poolSize: 4 }), await open({ poolSize: 4 })]
      await a.createTenant({ id: 'acme', name: 'Acme' })
      const seqs = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).appendUpdate('acme', bytes(i))))
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
      const doc = await b.loadDocument('acme')
      seqs.forEach((seq, i) => expect(doc.updates[seq - 1]).toEqual(bytes(i)))
      expect(await a.documentSize('acme')).toBe(60 * 16)
    })

    it('[PG-5] a load never sees half a compaction, while another instance appends and compacts', async () => {
      const [writer, reader] = [await open(), await open()]
      await writer.createTenant({ id: 'acme', name: 'Acme' })
      const rounds = 40
      const work = (async () => {
        for (let i = 1; i <= rounds; i++) {
          await writer.appendUpdate('acme', bytes(i))
          await writer.appendUpdate('acme', bytes(1000 + i))
          const seen = await writer.loadDocument('acme')
          await writer.compactDocument('acme', bytes(i, 40), seen.lastSeq - 1) // keep the newest update
        }
      })()
      let loads = 0
      let done = false
      // Either way the loop stops; a failure of the work surfaces at `await work` below.
      work.then(
        () => (done = true),
        () => (done = true),
      )
      while (!done) {
        const doc = await reader.loadDocument('acme')
        // Whole: exactly the updates after the compacted state, the compacted state present iff
        // something was compacted, and the size that goes with them.
        expect(doc.updates.length).toBe(doc.lastSeq - doc.compactedThrough)
        expect(doc.state === null).toBe(doc.compactedThrough === 0)
        loads++
      }
      await work
      expect(loads).toBeGreaterThan(0)
      expect(await reader.loadDocument('acme')).toEqual({ state: bytes(rounds, 40), updates: [bytes(1000 + rounds)], compactedThrough: 2 * rounds - 1, lastSeq: 2 * rounds })
      expect(await reader.documentSize('acme')).toBe(40 + 16)
    })

    it('[PG-6] text Postgres cannot hold (a NUL character) is refused as invalid and nothing is stored', async () => {
      const storage = await open()
      await storage.createTenant({ id: 'acme', name: 'Acme' })
      const snapshot = { tenant: 'acme', trigger: 'manual', createdBy: null, reason: 'a\u0000b', itemCount: 0, totalUnits: 0, state: bytes(1) } as const
      expect((await storageError(storage.saveSnapshot(snapshot))).code).toBe('invalid')
      expect((await storageError(storage.appendAudit({ tenant: 'acme', actor: 'u_1', action: 'restore', detail: { note: 'a\u0000b' } }))).code).toBe('invalid')
      expect(await storage.listSnapshots('acme')).toEqual([])
      expect(await storage.listAudit('acme')).toEqual([])
    })

    it('[STORE-1] every update whose append resolved survives a SIGKILL of the writing process', async () => {
      const setup = await open()
      await setup.createTenant({ id: 'acme', name: 'Acme' })
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/postgres-append-until-killed.ts', url, schema.name], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
      const acknowledged = new Map<number, number>() // seq → k
      let buffered = ''
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString()
          const lines = buffered.split('\n')
          buffered = lines.pop() ?? ''
          for (const line of lines) {
            const [seq, k] = line.split(' ').map(Number)
            if (seq !== undefined && k !== undefined) acknowledged.set(seq, k)
          }
          // Kill mid-stream, while appends are still in flight.
          if (acknowledged.size >= 300) {
            child.kill('SIGKILL')
            resolve()
          }
        })
        child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)))
      })
      expect(await exited).toBe('SIGKILL')

      const doc = await setup.loadDocument('acme')
      expect(doc.updates.length).toBe(doc.lastSeq)
      for (const [seq, k] of acknowledged) expect(doc.updates[seq - 1]).toEqual(killTestUpdate(k))
    })
  })
}
