/**
 * [SOAK-1] Many connections make movements for a long time (1,000 connections across 10 tenants
 * for 10 minutes in `npm run torture`; a 10-second smoke run of 100 in `npm test`). After warm-up
 * the server's RSS grows no more than its documents do (a leak per connection or per message would
 * show as growth far beyond the data), every movement reaches every other device of its tenant, and
 * a late joiner holds exactly the movements that were made.
 *
 * The devices are the relay benchmark's light clients (bench/relays/clients.ts): they timestamp
 * what they receive instead of applying it, so one core drives a thousand of them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { BenchClient } from '../../bench/relays/clients.js'
import { EditLog, Receiver } from '../../bench/relays/edits.js'
import { seedCatalogue } from '../../bench/relays/movements.js'
import { DIALECTS } from '../../bench/relays/wire.js'
import { seededRandom } from '../../sync/ids.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { issueTokens } from '../../server/auth/tokens.js'
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import type { UserRecord } from '../../server/storage/types.js'
import { Rng } from '../support/fuzz.js'
import { startServerProcess } from '../support/process.js'
import type { ServerProcess } from '../support/process.js'
import { SECRET } from '../support/server.js'
import { LONG, SCALE, timeoutFor } from '../support/torture.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rssMB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b)
  return v[Math.floor(v.length / 2)] ?? NaN
}
/** Least-squares slope of y over x. */
const slope = (points: ReadonlyArray<readonly [number, number]>): number => {
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

const USERS_PER_TENANT = 20
/** Each connection makes a movement this often (ms): 1,000 connections make 100 movements a second. */
const PERIOD_MS = 10_000

describe('torture: soak', () => {
  const { connections, seconds, tenants } = SCALE.soak
  it(`[SOAK-1] ${connections} connections make movements for ${seconds} s: RSS grows no more than the documents, nothing is lost`, async () => {
    const rng = new Rng(4242)
    const dataDir = mkdtempSync(join(tmpdir(), 'qm-soak-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const setup = openSqliteStorage(dataDir)
    const users = new Map<string, UserRecord[]>()
    const tenantIds = Array.from({ length: tenants }, (_, i) => `soak${i}`)
    for (const tenant of tenantIds) {
      await setup.createTenant({ id: tenant, name: tenant })
      const list: UserRecord[] = []
      for (let u = 0; u < USERS_PER_TENANT; u++) list.push(await setup.createUser({ tenant, username: `p${u}`, name: `Picker ${u}`, role: 'editor', passwordHash: 'scrypt$soak$not-a-password' }))
      users.set(tenant, list)
    }
    await setup.close()
    const server: ServerProcess = await startServerProcess(dataDir, 0, { MAX_CONNECTIONS_PER_USER: '1000' })
    cleanups.push(() => {
      server.child.kill('SIGKILL')
    })
    const pid = server.child.pid ?? -1
    const token = async (u: UserRecord) => (await issueTokens(SECRET, u, Date.now(), { accessSeconds: 4 * 3600, refreshSeconds: 8 * 3600 })).token

    // Each tenant's catalogue, then its devices.
    const log = new EditLog()
    const perTenant = Math.floor(connections / tenants)
    const devices: Array<{ tenant: number; client: BenchClient; doc: Y.Doc }> = []
    const seeds: Array<Set<string>> = []
    for (const [t, tenant] of tenantIds.entries()) {
      const list = users.get(tenant) ?? []
      const seeder = list[0] as UserRecord
      const seedDoc = new Y.Doc()
      const catalogue = seedCatalogue(seedDoc, seeder.id, 40, 3, seededRandom(rng.seed32()))
      seeds.push(new Set(seedDoc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id)))
      const seedClient = new BenchClient({ dialect: DIALECTS.quartermaster, port: server.port, tenant, token: await token(seeder), log, receiver: null, seedDoc, keep: false })
      seedClient.connect()
      await seedClient.synced()
      for (let i = 0; i < 500 && seedClient.ackedClock < seedClient.clock; i++) await sleep(20)
      expect(seedClient.ackedClock).toBe(seedClient.clock)
      seedClient.close()
      log.setReceivers(t, perTenant - 1)
      const update = Y.encodeStateAsUpdate(seedDoc)
      for (let d = 0; d < perTenant; d++) {
        const user = list[d % list.length] as UserRecord
        const doc = new Y.Doc()
        doc.clientID = rng.int(1, 0xffff_fffe)
        Y.applyUpdate(doc, update)
        const edits = log.writer(doc.clientID, t)
        const client = new BenchClient({
          dialect: DIALECTS.quartermaster,
          port: server.port,
          tenant,
          token: await token(user),
          log,
          receiver: new Receiver(t, edits),
          keep: false,
          writer: { userId: user.id, catalogue, random: seededRandom(rng.seed32()), edits, doc },
        })
        devices.push({ tenant: t, client, doc })
      }
    }
    cleanups.push(() => devices.forEach((d) => d.client.close()))
    for (let i = 0; i < devices.length; i += 50) {
      const group = devices.slice(i, i + 50)
      for (const d of group) d.client.connect()
      await Promise.all(group.map((d) => d.client.synced(60_000)))
    }

    // Movements at a steady rate, each device on its own phase; RSS and document sizes sampled.
    const storage = openSqliteStorage(dataDir)
    cleanups.push(() => storage.close())
    const storedBytes = async () => (await Promise.all(tenantIds.map((t) => storage.documentSize(t)))).reduce((a, b) => a + b, 0)
    const samples: Array<{ at: number; rss: number; stored: number; movements: number }> = []
    const started = Date.now()
    const period = LONG ? PERIOD_MS : 1000
    const timers = devices.map((d) =>
      setTimeout(function tick() {
        if (Date.now() - started >= seconds * 1000) return
        d.client.edit()
        timers.push(setTimeout(tick, period))
      }, rng.float() * period),
    )
    cleanups.push(() => timers.forEach(clearTimeout))
    const every = LONG ? 5000 : 500
    while (Date.now() - started < seconds * 1000) {
      await sleep(every)
      samples.push({ at: (Date.now() - started) / 1000, rss: rssMB(pid), stored: await storedBytes(), movements: log.recordCount })
      expect(server.child.exitCode).toBeNull()
    }
    for (const t of timers) clearTimeout(t)

    // Nothing lost: every movement at every other device, and in a late joiner's ledger exactly once.
    for (let i = 0; i < 600 && (log.incomplete().length > 0 || devices.some((d) => d.client.unacked > 0)); i++) await sleep(100)
    expect(log.incomplete().length, 'movements that did not reach every other device').toBe(0)
    expect(devices.filter((d) => d.client.unacked > 0).length, 'devices with unacknowledged movements').toBe(0)
    for (const [t, tenant] of tenantIds.entries()) {
      const late = new BenchClient({ dialect: DIALECTS.quartermaster, port: server.port, tenant, token: await token((users.get(tenant) ?? [])[0] as UserRecord), log, receiver: null })
      late.connect()
      await late.synced(60_000)
      late.close()
      const doc = late.state()
      const ids = doc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id)
      const made = new Set(seeds[t])
      for (const d of devices) if (d.tenant === t) for (const m of d.doc.getArray<Movement>(ROOT.movements).toArray()) made.add(m.id)
      expect(new Set(ids).size, `${tenant}: duplicates`).toBe(ids.length)
      expect(ids.length, `${tenant}: ledger size`).toBe(made.size)
      doc.destroy()
    }

    // RSS after warm-up (the first fifth) grows no more than the documents.
    const warm = samples.filter((s) => s.at >= seconds * 0.2)
    const head = warm.slice(0, Math.max(1, Math.floor(warm.length / 10)))
    const tail = warm.slice(-Math.max(1, Math.floor(warm.length / 10)))
    const rssGrowth = median(tail.map((s) => s.rss)) - median(head.map((s) => s.rss))
    const storedGrowthMB = ((tail[tail.length - 1]?.stored ?? 0) - (head[0]?.stored ?? 0)) / 2 ** 20
    const perMinute = slope(warm.map((s) => [s.at / 60, s.rss] as const))
    const figures = {
      connections: devices.length,
      seconds,
      movements: log.recordCount,
      edits: log.count,
      rssMB: { afterWarmUp: +median(head.map((s) => s.rss)).toFixed(1), end: +median(tail.map((s) => s.rss)).toFixed(1), peak: +Math.max(...samples.map((s) => s.rss)).toFixed(1) },
      rssGrowthMB: +rssGrowth.toFixed(1),
      rssSlopeMBPerMinute: +perMinute.toFixed(2),
      storedGrowthMB: +storedGrowthMB.toFixed(2),
      storedEndMB: +((samples[samples.length - 1]?.stored ?? 0) / 2 ** 20).toFixed(2),
      samples: samples.map((s) => [Math.round(s.at), Math.round(s.rss), Math.round(s.stored / 1024)]),
    }
    console.info(`[SOAK-1] ${JSON.stringify(figures)}`)
    // In memory a document takes about 5 times its encoded size, and its ledger index about as much
    // again (bench/RESULTS.md, doc-scale): 10 times the stored growth, plus room for the allocator.
    expect(rssGrowth, `RSS grew ${rssGrowth.toFixed(0)} MB after warm-up while the documents grew ${storedGrowthMB.toFixed(1)} MB`).toBeLessThan(64 + 10 * storedGrowthMB)
  }, timeoutFor(SCALE.soak.seconds + 120))
})
