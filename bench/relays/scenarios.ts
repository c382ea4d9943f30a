/**
 * The scenarios of `npm run bench` (bench/relays.ts). Each run starts a fresh server process, seeds
 * every tenant's catalogue through a client, connects the devices, makes movements, measures a
 * window, lets everything drain, and checks convergence: every client and a late joiner hold the
 * identical document, and the ledger holds exactly the movements that were made, each once. A run
 * that does not converge reports its problems (and bench/relays.ts exits non-zero).
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { performance as perf } from 'node:perf_hooks'
import * as Y from 'yjs'
import { seededRandom } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { documentState } from '../../test/support/doc-state.js'
import { BenchClient } from './clients.js'
import { EditLog, Receiver } from './edits.js'
import type { WriterEdits } from './edits.js'
import { seedCatalogue } from './movements.js'
import type { Catalogue } from './movements.js'
import { startRelay } from './servers.js'
import type { ProcSample, Relay, TenantPlan } from './servers.js'
import { DIALECTS } from './wire.js'
import type { ServerKind } from './wire.js'

export interface LoadScenario {
  readonly kind: 'load'
  readonly id: string
  readonly title: string
  readonly tenants: number
  readonly writersPerTenant: number
  /** Devices that only receive (the first one of each tenant seeds its catalogue). */
  readonly observersPerTenant: number
  /** Movements per second per writer; 0 = as fast as the server acknowledges (closed loop). */
  readonly rate: number
  /** Closed loop: unacknowledged records a writer may have in flight. */
  readonly window: number
  readonly presence: boolean
  readonly items: number
  readonly locations: number
  readonly warmupSeconds: number
  readonly seconds: number
}

export interface StormScenario {
  readonly kind: 'storm'
  readonly id: string
  readonly title: string
  readonly tenants: number
  readonly clientsPerTenant: number
  readonly items: number
  readonly locations: number
}

export interface ColdScenario {
  readonly kind: 'cold'
  readonly id: string
  readonly title: string
  readonly fixture: string
}

export type Scenario = LoadScenario | StormScenario | ColdScenario

export interface Latency {
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly samples: number
}

export interface RunResult {
  readonly scenario: string
  readonly server: ServerKind
  readonly rep: number
  /** 0 = this server went first in this repetition. */
  readonly position: number
  readonly clients: number
  readonly seconds: number
  readonly accepted: number
  readonly acceptedPerSecond: number
  readonly offeredPerSecond: number
  readonly latency: Latency | null
  readonly serverCpuSeconds: number
  readonly serverCpuUsPerUpdate: number
  readonly peakRssMB: number
  readonly generatorCpuSeconds: number
  /** Event-loop utilization of the generator during the window (1 = saturated). */
  readonly generatorElu: number
  readonly generatorLimited: boolean
  readonly converged: boolean
  readonly problems: readonly string[]
  readonly extra: Readonly<Record<string, number>>
}

/** ELU at or above this during the window: the generator, not the server, set the pace. */
export const GENERATOR_LIMIT_ELU = 0.9

// ---- helpers -----------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const DEBUG = process.env.BENCH_DEBUG === '1'
let phaseStarted = performance.now()
/** With BENCH_DEBUG=1: how long each phase of a run took. */
const phase = (name: string): void => {
  if (DEBUG) console.log(`    [${((performance.now() - phaseStarted) / 1000).toFixed(1)} s] ${name}`)
  phaseStarted = performance.now()
}

const waitUntil = async (check: () => boolean, timeoutMs: number, what: () => string): Promise<boolean> => {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) {
      console.error(`  ! timed out after ${timeoutMs} ms waiting for ${what()}`)
      return false
    }
    await sleep(20)
  }
  return true
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN)

const latencyOf = (sorted: Float64Array): Latency => ({
  p50: percentile(sorted, 50),
  p95: percentile(sorted, 95),
  p99: percentile(sorted, 99),
  max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? NaN) : NaN,
  samples: sorted.length,
})

const tenantId = (i: number) => `t${String(i).padStart(3, '0')}`

/** A stable fingerprint of a document's content: every root as canonical JSON. */
const fingerprint = (doc: Y.Doc): string => createHash('sha256').update(JSON.stringify(documentState(doc))).digest('hex').slice(0, 16)

const movementIds = (doc: Y.Doc): string[] => doc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id)

/** Connects `clients` in batches, each batch synced before the next (a fleet coming online). */
const connectAll = async (clients: readonly BenchClient[], batch: number): Promise<void> => {
  for (let i = 0; i < clients.length; i += batch) {
    const group = clients.slice(i, i + batch)
    for (const c of group) c.connect()
    await Promise.all(group.map((c) => c.synced(120_000)))
  }
}

interface TenantRig {
  readonly index: number
  readonly id: string
  readonly catalogue: Catalogue
  readonly catalogueUpdate: Uint8Array
  readonly seedIds: readonly string[]
  readonly seeder: BenchClient
  readonly writers: BenchClient[]
  readonly observers: BenchClient[]
}

/**
 * Seeds one tenant through a client: it answers the server's sync step 1 with the catalogue and
 * waits until the server acknowledged it. It stays connected as the tenant's first observer.
 */
const seedTenant = async (relay: Relay, log: EditLog, index: number, items: number, locations: number, random: RandomSource, reconnect: boolean): Promise<Omit<TenantRig, 'writers' | 'observers'>> => {
  const id = tenantId(index)
  const seeder = relay.user(id, 'seed')
  const doc = new Y.Doc()
  doc.clientID = Math.floor(random() * 0xfffffff0) + 1
  const catalogue = seedCatalogue(doc, seeder.id, items, locations, random)
  const client = new BenchClient({ dialect: DIALECTS[relay.kind], port: relay.port, tenant: id, token: seeder.token, log, receiver: new Receiver(index, null), seedDoc: doc, reconnect })
  client.connect()
  await client.synced(60_000)
  await waitUntil(() => client.ackedClock >= client.clock, 60_000, () => `the catalogue of ${id} to be acknowledged (${client.ackedClock}/${client.clock})`)
  return { index, id, catalogue, catalogueUpdate: Y.encodeStateAsUpdate(doc), seedIds: movementIds(doc), seeder: client }
}

interface Convergence {
  readonly converged: boolean
  readonly problems: string[]
}

/**
 * After the run: a late joiner per tenant; its ledger must hold exactly the seed's and the writers'
 * movements, each once, and every client of the tenant must hold the identical document.
 */
const checkConvergence = async (relay: Relay, log: EditLog, rigs: readonly TenantRig[]): Promise<Convergence> => {
  const problems: string[] = []
  const incomplete = log.incomplete()
  if (incomplete.length > 0) problems.push(`${incomplete.length} edits never reached every other client of their tenant (first: #${incomplete[0]})`)
  for (const rig of rigs) {
    const late = new BenchClient({ dialect: DIALECTS[relay.kind], port: relay.port, tenant: rig.id, token: relay.user(rig.id, 'obs').token, log, receiver: null })
    late.connect()
    try {
      await late.synced(120_000)
    } catch (err) {
      problems.push(`${rig.id}: the late joiner did not sync: ${(err as Error).message}`)
      continue
    }
    late.close()
    phase(`${rig.id}: late joiner synced`)
    const lateDoc = late.state()
    phase(`${rig.id}: late joiner state built`)
    // A writer's own document holds the seed and its own movements (it applies nobody else's).
    const seed = new Set(rig.seedIds)
    const expected = new Set(seed)
    let made = seed.size
    for (const w of rig.writers) {
      for (const id of w.doc ? movementIds(w.doc) : []) {
        if (seed.has(id)) continue
        expected.add(id)
        made++
      }
    }
    const ids = movementIds(lateDoc)
    const unique = new Set(ids)
    if (ids.length !== made) problems.push(`${rig.id}: the late joiner has ${ids.length} movements, ${made} were made`)
    if (unique.size !== ids.length) problems.push(`${rig.id}: ${ids.length - unique.size} movements appear more than once`)
    const missing = [...expected].filter((m) => !unique.has(m))
    if (missing.length > 0) problems.push(`${rig.id}: ${missing.length} movements are missing (first ${missing[0]})`)
    const extra = [...unique].filter((m) => !expected.has(m))
    if (extra.length > 0) problems.push(`${rig.id}: ${extra.length} movements nobody made (first ${extra[0]})`)
    const want = fingerprint(lateDoc)
    phase(`${rig.id}: ledger checked`)
    const clients = [rig.seeder, ...rig.writers, ...rig.observers]
    let differing = 0
    for (const c of clients) {
      const doc = c.state()
      if (rigs.length === 1) phase('  a client state built')
      if (fingerprint(doc) !== want) differing++
      doc.destroy()
    }
    if (differing > 0) problems.push(`${rig.id}: ${differing} of ${clients.length} clients differ from the late joiner`)
    lateDoc.destroy()
  }
  return { converged: problems.length === 0, problems }
}

const closeAll = (rigs: readonly TenantRig[]) => {
  for (const r of rigs) for (const c of [r.seeder, ...r.writers, ...r.observers]) c.close()
}

// ---- load scenarios (throughput, latency, presence, many tenants) -------------------------------

export const runLoad = async (s: LoadScenario, kind: ServerKind, rep: number, position: number): Promise<RunResult> => {
  const random = seededRandom(1000 * rep + s.id.length * 17 + s.tenants)
  const plans: TenantPlan[] = Array.from({ length: s.tenants }, (_, t) => ({
    tenant: tenantId(t),
    users: [
      { username: 'seed', role: 'editor' as const },
      { username: 'obs', role: 'viewer' as const },
      ...Array.from({ length: s.writersPerTenant }, (_, w) => ({ username: `w${w}`, role: 'editor' as const })),
    ],
  }))
  const relay = await startRelay(kind, { tenants: plans })
  const log = new EditLog()
  const rigs: TenantRig[] = []
  try {
    const clientIds = new Set<number>()
    const newClientId = () => {
      for (;;) {
        const id = Math.floor(random() * 0xfffffff0) + 1
        if (!clientIds.has(id)) return (clientIds.add(id), id)
      }
    }
    for (let t = 0; t < s.tenants; t++) {
      log.setReceivers(t, s.writersPerTenant + s.observersPerTenant - 1)
      const base = await seedTenant(relay, log, t, s.items, s.locations, random, false)
      const writers = Array.from({ length: s.writersPerTenant }, (_, w) => {
        const user = relay.user(base.id, `w${w}`)
        const doc = new Y.Doc()
        doc.clientID = newClientId()
        Y.applyUpdate(doc, base.catalogueUpdate)
        const edits: WriterEdits = log.writer(doc.clientID, t)
        const presence = s.presence ? { name: `writer ${w}`, random: seededRandom(newClientId()) } : undefined
        return new BenchClient({
          dialect: DIALECTS[kind],
          port: relay.port,
          tenant: base.id,
          token: user.token,
          log,
          receiver: new Receiver(t, edits),
          writer: { userId: user.id, catalogue: base.catalogue, random: seededRandom(newClientId()), edits, doc },
          ...(presence ? { presence } : {}),
        })
      })
      const observers = Array.from({ length: s.observersPerTenant - 1 }, (_, o) => {
        const presence = s.presence ? { name: `device ${o}`, random: seededRandom(newClientId()) } : undefined
        return new BenchClient({ dialect: DIALECTS[kind], port: relay.port, tenant: base.id, token: relay.user(base.id, 'obs').token, log, receiver: new Receiver(t, null), ...(presence ? { presence } : {}) })
      })
      rigs.push({ ...base, writers, observers })
    }
    const everyone = rigs.flatMap((r) => [...r.observers, ...r.writers])
    const connectStarted = performance.now()
    await connectAll(everyone, 50)
    const connectSeconds = (performance.now() - connectStarted) / 1000
    phase('seeded and connected')
    if (s.presence) {
      // Devices come online over a few seconds, as a shift does; each starts its awareness then.
      for (const r of rigs) r.seeder.startPresence()
      for (const c of everyone) {
        c.startPresence()
        await sleep(10)
      }
    }

    // Load: writers at a fixed rate with random phases, or a closed loop with a window.
    const writers = rigs.flatMap((r) => r.writers)
    let running = true
    const timers: NodeJS.Timeout[] = []
    if (s.rate > 0) {
      const period = 1000 / s.rate
      for (const w of writers) {
        timers.push(
          setTimeout(() => {
            if (!running) return
            w.edit()
            timers.push(setInterval(() => running && w.edit(), period))
          }, random() * period),
        )
      }
    } else {
      const pump = (w: BenchClient) => {
        for (let n = 0; running && w.unacked < s.window && n < s.window; n++) w.edit()
      }
      let scheduled = false
      const pumpAll = () => {
        scheduled = false
        for (const w of writers) pump(w)
      }
      for (const w of writers) {
        w.onAcknowledged(() => {
          if (scheduled) return
          scheduled = true
          setImmediate(pumpAll)
        })
      }
      pumpAll()
    }
    await sleep(s.warmupSeconds * 1000)
    const start = performance.now()
    const serverBefore = relay.proc()
    const cpuBefore = process.cpuUsage()
    const eluBefore = perf.eventLoopUtilization()
    await sleep(s.seconds * 1000)
    const end = performance.now()
    const serverAfter = relay.proc()
    const cpu = process.cpuUsage(cpuBefore)
    const elu = perf.eventLoopUtilization(eluBefore).utilization
    running = false
    for (const t of timers) clearInterval(t)
    phase('measured')

    // Drain: every edit acknowledged and at every other client.
    await waitUntil(
      () => writers.every((w) => w.unacked === 0) && log.incomplete().length === 0,
      60_000,
      () => `the edits to drain (${writers.filter((w) => w.unacked > 0).length} writers with unacknowledged edits, ${log.incomplete().length} edits not everywhere)`,
    )
    phase('drained')
    const peak = relay.proc().peakRssMB
    const convergence = await checkConvergence(relay, log, rigs)
    phase('convergence checked')
    const seconds = (end - start) / 1000
    const accepted = log.ackedBetween(start, end)
    const serverCpu = serverAfter.cpuSeconds - serverBefore.cpuSeconds
    const genCpu = (cpu.user + cpu.system) / 1e6
    return {
      scenario: s.id,
      server: kind,
      rep,
      position,
      clients: rigs.length * (1 + s.writersPerTenant + s.observersPerTenant - 1),
      seconds,
      accepted,
      acceptedPerSecond: accepted / seconds,
      offeredPerSecond: log.sentBetween(start, end) / seconds,
      latency: latencyOf(log.latencies(start, end)),
      serverCpuSeconds: serverCpu,
      serverCpuUsPerUpdate: accepted > 0 ? (serverCpu * 1e6) / accepted : NaN,
      peakRssMB: peak,
      generatorCpuSeconds: genCpu,
      generatorElu: elu,
      generatorLimited: elu >= GENERATOR_LIMIT_ELU,
      converged: convergence.converged,
      problems: convergence.problems,
      extra: {
        connectSeconds,
        edits: log.count,
        records: log.recordCount,
        awarenessSent: everyone.reduce((n, c) => n + c.awarenessSent, 0),
        duplicateArrivals: log.duplicateArrivals,
        serverRssEndMB: serverAfter.rssMB,
      },
    }
  } finally {
    closeAll(rigs)
    await relay.stop()
  }
}

// ---- reconnect storm -----------------------------------------------------------------------------

export const runStorm = async (s: StormScenario, kind: ServerKind, rep: number, position: number): Promise<RunResult> => {
  const random = seededRandom(7000 + rep)
  const plans: TenantPlan[] = Array.from({ length: s.tenants }, (_, t) => ({
    tenant: tenantId(t),
    users: [
      { username: 'seed', role: 'editor' as const },
      { username: 'obs', role: 'viewer' as const },
      ...Array.from({ length: s.clientsPerTenant }, (_, c) => ({ username: `c${c}`, role: 'editor' as const })),
    ],
  }))
  const relay = await startRelay(kind, { tenants: plans })
  const log = new EditLog()
  const rigs: TenantRig[] = []
  const problems: string[] = []
  try {
    for (let t = 0; t < s.tenants; t++) {
      log.setReceivers(t, s.clientsPerTenant) // the other devices and the seeding one
      const base = await seedTenant(relay, log, t, s.items, s.locations, random, true)
      const writers = Array.from({ length: s.clientsPerTenant }, (_, c) => {
        const user = relay.user(base.id, `c${c}`)
        const doc = new Y.Doc()
        doc.clientID = Math.floor(random() * 0xfffffff0) + 1
        Y.applyUpdate(doc, base.catalogueUpdate)
        const edits = log.writer(doc.clientID, t)
        return new BenchClient({
          dialect: DIALECTS[kind],
          port: relay.port,
          tenant: base.id,
          token: user.token,
          log,
          receiver: new Receiver(t, edits),
          writer: { userId: user.id, catalogue: base.catalogue, random: seededRandom(doc.clientID), edits, doc },
          reconnect: true,
        })
      })
      rigs.push({ ...base, writers, observers: [] })
    }
    const devices = rigs.flatMap((r) => r.writers)
    await connectAll(devices, 100)
    // Everyone makes a movement online, and it reaches everyone.
    for (const d of devices) d.edit()
    await waitUntil(() => devices.every((d) => d.unacked === 0) && log.incomplete().length === 0, 60_000, () => 'the online movements to settle')

    // The server dies; every device makes a movement offline; the server comes back.
    const killedAt = performance.now()
    await relay.kill()
    await waitUntil(() => devices.every((d) => !d.isSynced), 10_000, () => 'every device to notice the server is gone')
    const firstOffline = log.count
    for (const d of devices) d.edit()
    const lastOffline = log.count
    const cpuBefore = process.cpuUsage()
    const listeningAt = await relay.relaunch()
    const serverBefore = relay.proc()
    const resynced = await waitUntil(
      () => devices.every((d) => d.isSynced && d.unacked === 0) && rigs.every((r) => r.seeder.isSynced) && !Number.isNaN(log.completeAt(firstOffline, lastOffline)),
      60_000,
      () => `the storm to settle (${devices.filter((d) => !d.isSynced).length} not synced, ${devices.filter((d) => d.unacked > 0).length} unacknowledged, ${log.incomplete(firstOffline, lastOffline).length} offline movements not everywhere)`,
    )
    const doneAt = Math.max(log.completeAt(firstOffline, lastOffline), log.ackedAt(firstOffline, lastOffline))
    const serverAfter = relay.proc()
    const cpu = process.cpuUsage(cpuBefore)
    if (!resynced) problems.push('the devices did not all resync within 60 s')
    const convergence = await checkConvergence(relay, log, rigs)
    const resyncSeconds = resynced ? (doneAt - listeningAt) / 1000 : NaN
    const offline = lastOffline - firstOffline
    return {
      scenario: s.id,
      server: kind,
      rep,
      position,
      clients: devices.length + rigs.length,
      seconds: resyncSeconds,
      accepted: offline,
      acceptedPerSecond: NaN,
      offeredPerSecond: NaN,
      latency: null,
      serverCpuSeconds: serverAfter.cpuSeconds - serverBefore.cpuSeconds,
      serverCpuUsPerUpdate: NaN,
      peakRssMB: serverAfter.peakRssMB,
      generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
      generatorElu: NaN,
      generatorLimited: false,
      converged: convergence.converged && problems.length === 0,
      problems: [...problems, ...convergence.problems],
      extra: {
        resyncSeconds,
        fromKillSeconds: resynced ? (doneAt - killedAt) / 1000 : NaN,
        restartSeconds: (listeningAt - killedAt) / 1000,
        offlineMovements: offline,
        reconnects: devices.reduce((n, d) => n + d.opens - 1, 0),
        failedAttempts: devices.reduce((n, d) => n + d.closes, 0),
      },
    }
  } finally {
    closeAll(rigs)
    await relay.stop()
  }
}

// ---- cold load --------------------------------------------------------------------------------------

const FIXTURE_DIR = new URL('../out/fixtures/', import.meta.url).pathname

/** The doc-scale document (10,000 items, 100,000 movements), built once by bench/doc-scale.ts. */
export const loadFixture = (name: string): Uint8Array => {
  const path = join(FIXTURE_DIR, name)
  if (!existsSync(path)) {
    console.log(`  building the fixture ${name} with bench/doc-scale.ts (about a minute, once)…`)
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/doc-scale.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, DOC_SCALE_SAVE: FIXTURE_DIR, DOC_SCALE_BUILD_ONLY: '1' },
      stdio: 'inherit',
      timeout: 15 * 60_000,
    })
    if (r.status !== 0 || !existsSync(path)) throw new Error(`could not build ${path}`)
  }
  return new Uint8Array(readFileSync(path))
}

export const runCold = async (s: ColdScenario, kind: ServerKind, rep: number, position: number): Promise<RunResult> => {
  const fixture = loadFixture(s.fixture)
  const tenant = tenantId(0)
  const plans: TenantPlan[] = [{ tenant, users: [{ username: 'seed', role: 'editor' }, { username: 'obs', role: 'viewer' }] }]
  // Quartermaster has the document on disk, as after a restart; the in-memory relays have no
  // storage, so a client uploads it first and they serve it from memory.
  const relay = await startRelay(kind, { tenants: plans, ...(kind === 'quartermaster' ? { stored: new Map([[tenant, fixture]]) } : {}) })
  const log = new EditLog()
  const clients: BenchClient[] = []
  const problems: string[] = []
  const expected = new Y.Doc()
  Y.applyUpdate(expected, fixture)
  try {
    let uploadMs = NaN
    if (kind !== 'quartermaster') {
      const seedDoc = new Y.Doc()
      Y.applyUpdate(seedDoc, fixture)
      const seeder = new BenchClient({ dialect: DIALECTS[kind], port: relay.port, tenant, token: null, log, receiver: null, seedDoc, keep: false })
      clients.push(seeder)
      const t0 = performance.now()
      seeder.connect()
      await seeder.synced(120_000)
      // Hocuspocus acknowledges the upload (SyncStatus); y-websocket broadcasts it back to its sender.
      await waitUntil(() => (kind === 'hocuspocus' ? seeder.acks : seeder.updatesReceived) > 0, 120_000, () => 'the upload to be acknowledged')
      uploadMs = performance.now() - t0
    }
    const before: ProcSample = relay.proc()
    const timeLoad = async (): Promise<{ ms: number; applyMs: number; doc: Y.Doc }> => {
      const c = new BenchClient({ dialect: DIALECTS[kind], port: relay.port, tenant, token: relay.user(tenant, 'obs').token, log, receiver: null })
      clients.push(c)
      const t0 = performance.now()
      c.connect()
      await c.synced(120_000)
      const ms = performance.now() - t0
      const t1 = performance.now()
      const doc = c.state()
      return { ms, applyMs: performance.now() - t1, doc }
    }
    const cold = await timeLoad()
    const afterCold = relay.proc()
    const warm = await timeLoad()
    const expectedIds = new Set(movementIds(expected))
    for (const [name, r] of [['first', cold], ['second', warm]] as const) {
      const ids = movementIds(r.doc)
      if (ids.length !== expectedIds.size || new Set(ids).size !== ids.length || ids.some((id) => !expectedIds.has(id))) {
        problems.push(`the ${name} client has ${ids.length} movements (${new Set(ids).size} distinct), the tenant has ${expectedIds.size}`)
      }
      const items = r.doc.getMap(ROOT.items).size
      if (items !== expected.getMap(ROOT.items).size) problems.push(`the ${name} client has ${items} items`)
      r.doc.destroy()
    }
    const peak = relay.proc().peakRssMB
    return {
      scenario: s.id,
      server: kind,
      rep,
      position,
      clients: clients.length,
      seconds: cold.ms / 1000,
      accepted: 0,
      acceptedPerSecond: NaN,
      offeredPerSecond: NaN,
      latency: null,
      serverCpuSeconds: afterCold.cpuSeconds - before.cpuSeconds,
      serverCpuUsPerUpdate: NaN,
      peakRssMB: peak,
      generatorCpuSeconds: NaN,
      generatorElu: NaN,
      generatorLimited: false,
      converged: problems.length === 0,
      problems,
      extra: { firstSyncMs: cold.ms, secondSyncMs: warm.ms, clientApplyMs: cold.applyMs, uploadMs, documentBytes: fixture.length, rssAfterLoadMB: afterCold.rssMB },
    }
  } finally {
    for (const c of clients) c.close()
    expected.destroy()
    await relay.stop()
  }
}
