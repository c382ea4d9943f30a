/**
 * A first relay benchmark: Quartermaster with auth, validation and durable SQLite storage on, in
 * process, driven over real WebSockets by writers that make stock movements and observers that
 * only timestamp arrivals (they never apply updates, so the generator stays light on 2 cores).
 *
 *   npm run bench:relay            (scenarios below; figures go to bench/RESULTS.md)
 *
 * Latency is edit → arrival at an observer, matched by the (client id, clock) of the edit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import WS from 'ws'
import * as Y from 'yjs'
import { Inventory } from '../sync/inventory.js'
import { seededRandom } from '../sync/ids.js'
import { MESSAGE } from '../sync/protocol.js'
import { hashPassword } from '../server/auth/passwords.js'
import { issueTokens } from '../server/auth/tokens.js'
import { startServer } from '../server/server.js'
import { openSqliteStorage } from '../server/storage/sqlite.js'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123'

interface Scenario {
  readonly name: string
  readonly writers: number
  /** Movements per second per writer; 0 = as fast as the server acknowledges. */
  readonly rate: number
  readonly observers: number
  readonly seconds: number
}

const SCENARIOS: Scenario[] = [
  { name: '2 writers, as fast as possible', writers: 2, rate: 0, observers: 2, seconds: 10 },
  { name: '50 writers at 5 movements/s, 20 observers', writers: 50, rate: 5, observers: 20, seconds: 10 },
]

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

const frame = (type: number, write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, type)
  write(e)
  return encoding.toUint8Array(e)
}

const open = (url: string): Promise<WS> =>
  new Promise((resolve, reject) => {
    const ws = new WS(url)
    ws.binaryType = 'nodebuffer'
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })

const run = async (s: Scenario) => {
  const dir = mkdtempSync(join(tmpdir(), 'qm-bench-'))
  const storage = openSqliteStorage(dir)
  await storage.createTenant({ id: 'bench', name: 'Bench' })
  const hash = await hashPassword('bench-password')
  // Seed the catalogue straight into the store: 100 items at one location.
  const seed = new Y.Doc()
  const seedInv = new Inventory(seed, { userId: 'seed', random: seededRandom(1) })
  const location = seedInv.createLocation({ name: 'Aisle 1' })
  const items = Array.from({ length: 100 }, (_, i) => seedInv.createItem({ sku: `SKU-${i}`, name: `Item ${i}` }))
  await storage.appendUpdate('bench', Y.encodeStateAsUpdate(seed))
  const server = await startServer({
    storage,
    secret: SECRET,
    limits: { updatesPerSecond: 100_000, updateBurst: 100_000, maxConnectionsPerUser: 1000 },
  })
  const sent = new Map<string, number>()
  const latencies: number[] = []
  const url = async (username: string) => {
    const user = await storage.createUser({ tenant: 'bench', username, name: username, role: 'editor', passwordHash: hash })
    return `${server.wsUrl}/bench?ext=1&token=${(await issueTokens(SECRET, user)).token}`
  }

  const observers = await Promise.all(
    Array.from({ length: s.observers }, async (_, i) => {
      const ws = await open(await url(`observer${i}`))
      ws.on('message', (data: Buffer) => {
        const now = performance.now()
        const d = decoding.createDecoder(data)
        if (decoding.readVarUint(d) !== MESSAGE.sync) return
        if (decoding.readVarUint(d) !== syncProtocol.messageYjsUpdate) return
        for (const [client, to] of Y.parseUpdateMeta(decoding.readVarUint8Array(d)).to) {
          const at = sent.get(`${client}:${to}`)
          if (at !== undefined) latencies.push(now - at)
        }
      })
      return ws
    }),
  )

  let acknowledged = 0
  let running = true
  const writers = await Promise.all(
    Array.from({ length: s.writers }, async (_, i) => {
      const doc = new Y.Doc()
      const ws = await open(await url(`writer${i}`))
      const synced = new Promise<void>((resolve) => {
        ws.on('message', (data: Buffer) => {
          const d = decoding.createDecoder(data)
          const type = decoding.readVarUint(d)
          if (type === MESSAGE.sync) {
            const step = decoding.readVarUint(d)
            if (step === syncProtocol.messageYjsSyncStep2) {
              Y.applyUpdate(doc, decoding.readVarUint8Array(d), 'server')
              resolve()
            }
          } else if (type === MESSAGE.durable) acknowledged++
        })
      })
      ws.send(frame(MESSAGE.sync, (e) => syncProtocol.writeSyncStep1(e, doc)))
      await synced
      const inv = new Inventory(doc, { userId: (await storage.getUserByName('bench', `writer${i}`))?.id ?? '', random: seededRandom(i + 7) })
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === 'server') return
        const clock = Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0
        sent.set(`${doc.clientID}:${clock}`, performance.now())
        ws.send(frame(MESSAGE.sync, (e) => syncProtocol.writeUpdate(e, update)))
      })
      return { inv, ws, doc }
    }),
  )

  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const random = seededRandom(99)
  const timers: NodeJS.Timeout[] = []
  for (const w of writers) {
    const act = () => {
      if (!running) return
      const item = items[Math.floor(random() * items.length)] as string
      if (random() < 0.5) w.inv.receive({ item, location, quantity: 1 + Math.floor(random() * 5) })
      else w.inv.pick({ item, location, quantity: 1 })
    }
    if (s.rate > 0) timers.push(setInterval(act, 1000 / s.rate))
    else {
      const loop = () => {
        if (!running) return
        act()
        setImmediate(loop)
      }
      loop()
    }
  }
  await new Promise((r) => setTimeout(r, s.seconds * 1000))
  running = false
  timers.forEach(clearInterval)
  const elapsed = (performance.now() - started) / 1000
  await new Promise((r) => setTimeout(r, 1000))
  const cpu = process.cpuUsage(cpuBefore)
  const accepted = server.relay.metrics.updatesAccepted
  // Convergence: every writer's movements are in the server's document, none doubled.
  const written = writers.reduce((n, w) => n + w.inv.movements.length, 0)
  const serverMovements = await server.relay.withRoom('bench', (room) => room.read((doc) => doc.getArray('movements').length))
  for (const w of [...writers, ...observers.map((ws) => ({ ws }))]) w.ws.terminate()
  await server.close()
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  return {
    scenario: s.name,
    acceptedPerSecond: Math.round(accepted / elapsed),
    acknowledged,
    p50: +percentile(latencies, 50).toFixed(1),
    p95: +percentile(latencies, 95).toFixed(1),
    p99: +percentile(latencies, 99).toFixed(1),
    samples: latencies.length,
    processCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    converged: serverMovements === written,
    written,
    serverMovements,
  }
}

const results = []
for (const s of SCENARIOS) {
  const r = await run(s)
  results.push(r)
  if (!r.converged) {
    console.error(`NOT CONVERGED: ${JSON.stringify(r)}`)
    process.exitCode = 1
  }
}
console.table(results)
console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), results }))
