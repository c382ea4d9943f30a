/**
 * [CHAOS-1] Devices sync through a network that delays, drops, doubles and cuts, go offline and
 * come back, while the server is killed with SIGKILL and restarted several times. At every kill,
 * everything the server had acknowledged as durable is in its store. At the end every device, the
 * server and its store hold the identical document, every movement any device made is in the
 * ledger exactly once, and each on-hand equals the sum of its movements.
 *
 * The server is a real process on SQLite; the devices are stock y-websocket providers behind a
 * loopback proxy (test/support/chaos-proxy.ts). Short in `npm test`, long in `npm run torture`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type * as decoding from 'lib0/decoding'
import type { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { seededRandom } from '../../sync/ids.js'
import { Inventory, InventoryError } from '../../sync/inventory.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor } from '../../sync/origin.js'
import { MESSAGE, readDurable } from '../../sync/protocol.js'
import { ROOT, baselineKey } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { hashPassword } from '../../server/auth/passwords.js'
import { SERVER_USER_ID } from '../../server/relay/types.js'
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import type { UserRecord } from '../../server/storage/types.js'
import { CALM, ChaosProxy } from '../support/chaos-proxy.js'
import type { Chaos } from '../support/chaos-proxy.js'
import { documentState, stateDiff, stateProblems } from '../support/doc-state.js'
import { Rng } from '../support/fuzz.js'
import { providerFor, startServerProcess } from '../support/process.js'
import type { ServerProcess } from '../support/process.js'
import { eventually } from '../support/server.js'
import { SCALE, timeoutFor, tortureSeeds } from '../support/torture.js'

const NETWORK: Chaos = { maxDelayMs: 400, drop: 0.03, duplicate: 0.03, cut: 0.004 }
const SERVER_ENV = { COMPACT_EVERY_UPDATES: '25', IDLE_UNLOAD_SECONDS: '1' }

interface Device {
  readonly name: string
  readonly user: UserRecord
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  readonly inv: Inventory
  /** Every movement this device made, with the Yjs client id and clock right after it. */
  readonly made: Array<{ readonly movement: Movement; readonly client: number; readonly clock: number }>
  readonly acknowledged: Set<string>
  /** The last durable state vector the server sent this device. */
  durable: Map<number, number>
  online: boolean
}

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The document the store holds for `tenant` (the server must not be running, or be between writes). */
const storedDocument = async (dataDir: string): Promise<{ doc: Y.Doc; owners: Map<number, string> }> => {
  const storage = openSqliteStorage(dataDir)
  try {
    const stored = await storage.loadDocument('acme')
    const doc = new Y.Doc()
    if (stored.state) Y.applyUpdate(doc, stored.state)
    for (const u of stored.updates) Y.applyUpdate(doc, u)
    const owners = await storage.clientIdOwners('acme', [...doc.store.clients.keys()])
    return { doc, owners }
  } finally {
    await storage.close()
  }
}

const ledgerIds = (doc: Y.Doc): string[] => doc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id)

const runChaos = async (seed: number): Promise<void> => {
  const rng = new Rng(seed)
  const { clients, seconds, kills } = SCALE.chaos
  const dataDir = mkdtempSync(join(tmpdir(), 'qm-chaos-'))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const setup = openSqliteStorage(dataDir)
  await setup.createTenant({ id: 'acme', name: 'Acme' })
  const hash = await hashPassword('a long enough password')
  const admin = await setup.createUser({ tenant: 'acme', username: 'admin', name: 'Admin', role: 'admin', passwordHash: hash })
  const users: UserRecord[] = []
  for (let i = 0; i < clients; i++) users.push(await setup.createUser({ tenant: 'acme', username: `picker${i}`, name: `Picker ${i}`, role: 'editor', passwordHash: hash }))
  await setup.close()

  let server: ServerProcess = await startServerProcess(dataDir, 0, SERVER_ENV)
  const port = server.port
  cleanups.push(() => {
    server.child.kill('SIGKILL')
  })
  const proxy = new ChaosProxy(port, seededRandom(rng.seed32()))
  const proxyPort = await proxy.listen()
  cleanups.push(() => proxy.close())

  const devices: Device[] = []
  for (const [i, user] of [admin, ...users].entries()) {
    const provider = await providerFor(proxyPort, user, { ext: true })
    const doc = provider.doc
    const d: Device = {
      name: i === 0 ? 'admin' : `picker${i - 1}`,
      user,
      doc,
      provider,
      inv: new Inventory(doc, { userId: user.id, random: seededRandom(rng.seed32()) }),
      made: [],
      acknowledged: new Set(),
      durable: new Map(),
      online: true,
    }
    provider.messageHandlers[MESSAGE.durable] = (_e, dec: decoding.Decoder) => {
      d.durable = Y.decodeStateVector(readDurable(dec))
      for (const m of d.made) if ((d.durable.get(m.client) ?? 0) >= m.clock) d.acknowledged.add(m.movement.id)
    }
    devices.push(d)
    cleanups.push(() => provider.destroy())
  }
  const [office] = devices as [Device]
  await eventually(() => expect(devices.every((d) => d.provider.synced)).toBe(true), 30_000)

  // The catalogue, on a calm network.
  const locations = ['Dock', 'Aisle 1', 'Aisle 2'].map((name) => office.inv.createLocation({ name }) as string)
  const items = Array.from({ length: 6 }, (_, i) => office.inv.createItem({ sku: `SKU-${i}`, name: `Part ${i}`, reorderPoint: 3 }) as string)
  const record = (d: Device, ms: readonly Movement[]) => {
    const clock = Y.getState(d.doc.store, d.doc.clientID)
    for (const movement of ms) d.made.push({ movement, client: d.doc.clientID, clock })
  }
  for (const item of items) record(office, [office.inv.receive({ item, location: locations[0] as string, quantity: 20 })])
  await eventually(() => expect(devices.every((d) => d.inv.listItems().length === items.length)).toBe(true), 30_000)

  // Chaos.
  proxy.chaos = NETWORK
  const stats = { movements: 0, refusedByApi: 0, offline: 0, online: 0, kills: 0, acknowledgedAtKills: 0 }
  const started = Date.now()
  const killAt = Array.from({ length: kills }, (_, k) => started + ((k + 0.5 + rng.float() * 0.4) * seconds * 1000) / kills)
  const act = (d: Device) => {
    const item = rng.pick(items)
    const location = rng.pick(locations)
    const kind = rng.weighted([[5, 'pick'], [4, 'receive'], [2, 'transfer'], [2, 'count'], [1, 'adjust'], [1, 'undo']] as const)
    try {
      let ms: readonly Movement[] = []
      if (kind === 'pick') ms = [d.inv.pick({ item, location, quantity: rng.int(1, 3) })]
      else if (kind === 'receive') ms = [d.inv.receive({ item, location, quantity: rng.int(1, 10) })]
      else if (kind === 'transfer') ms = d.inv.transfer({ item, from: location, to: rng.pick(locations.filter((l) => l !== location)), quantity: rng.int(1, 4) })
      else if (kind === 'count') ms = [d.inv.count({ item, location, counted: rng.int(0, 30) })]
      else if (kind === 'adjust') ms = [d.inv.adjust({ item, location, delta: rng.chance(0.5) ? 2 : -1, reason: 'damaged' })]
      else {
        const own = d.made.filter((m) => m.movement.kind !== 'undo')
        if (own.length > 0) ms = d.inv.undo(rng.pick(own).movement.id)
      }
      record(d, ms)
      stats.movements += ms.length
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      stats.refusedByApi++
    }
  }
  while (Date.now() - started < seconds * 1000) {
    await sleep(rng.int(5, 60))
    const next = killAt[0]
    if (next !== undefined && Date.now() >= next) {
      killAt.shift()
      server.child.kill('SIGKILL')
      await new Promise((r) => server.child.once('exit', r))
      stats.kills++
      // [DUR-1] under chaos: nothing acknowledged before the kill is missing from the store.
      const { doc } = await storedDocument(dataDir)
      const stored = new Set(ledgerIds(doc))
      doc.destroy()
      for (const d of devices) {
        const lost = [...d.acknowledged].filter((id) => !stored.has(id))
        expect(lost, `seed ${seed}: ${d.name} had these acknowledged before kill ${stats.kills}`).toEqual([])
        stats.acknowledgedAtKills += d.acknowledged.size
      }
      // Devices keep working while the server is down.
      for (let i = 0, n = rng.int(1, 6); i < n; i++) act(rng.pick(devices))
      await sleep(rng.int(100, 1500))
      server = await startServerProcess(dataDir, port, SERVER_ENV)
      continue
    }
    const d = rng.pick(devices)
    const r = rng.float()
    if (r < 0.06 && d.online) {
      d.provider.disconnect()
      d.online = false
      stats.offline++
    } else if (r < 0.12 && !d.online) {
      d.provider.connect()
      d.online = true
      stats.online++
    } else act(d)
  }

  // Heal: a calm network, everyone online, and a fresh sync over a clean connection.
  proxy.chaos = CALM
  for (const d of devices) {
    d.provider.disconnect()
    d.provider.connect()
    d.online = true
  }
  const allSaved = (d: Device) => d.made.every((m) => (d.durable.get(m.client) ?? 0) >= m.clock)
  const sv = (d: Y.Doc) => Y.encodeStateVector(d).join()
  await eventually(() => {
    expect(devices.filter((d) => !d.provider.synced).map((d) => d.name)).toEqual([])
    expect(devices.filter((d) => !allSaved(d)).map((d) => d.name)).toEqual([])
    const first = sv(office.doc)
    expect(devices.filter((d) => sv(d.doc) !== first).map((d) => d.name)).toEqual([])
  }, 90_000)

  // A late joiner, straight to the server, and every device hold the same document.
  const late = await providerFor(server.port, admin)
  cleanups.push(() => late.destroy())
  await eventually(() => expect(late.synced && sv(late.doc) === sv(office.doc)).toBe(true), 30_000)
  const want = documentState(late.doc)
  for (const d of devices) {
    const got = documentState(d.doc)
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`seed ${seed}: ${d.name} differs from the server:\n${stateDiff(got, want, d.name, 'server')}`)
  }

  // Every movement made is in the ledger exactly once, and nothing else is.
  const made = devices.flatMap((d) => d.made.map((m) => m.movement))
  const ids = ledgerIds(late.doc)
  expect(new Set(ids).size, `seed ${seed}: duplicates in the ledger`).toBe(ids.length)
  expect([...ids].sort()).toEqual(made.map((m) => m.id).sort())

  // Each on-hand is the sum of its movements: as the index says, and as the devices made them.
  const check = new Inventory(late.doc, { userId: admin.id })
  const baselines = late.doc.getMap<number>(ROOT.baselines)
  for (const item of items) {
    for (const location of locations) {
      const sum = made.filter((m) => m.item === item && m.location === location).reduce((n, m) => n + m.delta, 0)
      expect(check.onHand(item, location), `seed ${seed}: ${item}@${location}`).toBe((baselines.get(baselineKey(item, location)) ?? 0) + sum)
    }
  }
  check.destroy()

  // The server stores exactly that document, and the document is valid under every rule.
  server.child.kill('SIGTERM')
  await new Promise((r) => server.child.once('exit', r))
  const { doc: stored, owners } = await storedDocument(dataDir)
  // The alert mirror may move on after `want` was taken: on SIGTERM the alert duty judges what is
  // still pending and writes its mirror before the server stops. Everything devices wrote must match.
  const withoutAlerts = (state: ReturnType<typeof documentState>) => ({ ...state, alerts: null })
  const stateOfStore = withoutAlerts(documentState(stored))
  const wanted = withoutAlerts(want)
  if (JSON.stringify(stateOfStore) !== JSON.stringify(wanted)) throw new Error(`seed ${seed}: the store differs:\n${stateDiff(stateOfStore, wanted, 'store', 'server')}`)
  const roles = new Map<string, UserRecord>([admin, ...users].map((u) => [u.id, u]))
  const authorOf = (client: number): Actor => {
    const owner = owners.get(client)
    if (owner === SERVER_USER_ID) return SERVER_ACTOR
    const user = owner === undefined ? undefined : roles.get(owner)
    if (!user) throw new Error(`client id ${client} has no owner`)
    return { kind: 'user', userId: user.id, role: user.role }
  }
  expect(stateProblems(stored, { authorOf, ledgerComplete: true }), `seed ${seed}`).toEqual([])
  stored.destroy()
  console.info(`[CHAOS-1] seed ${seed}: ${JSON.stringify({ ...stats, ledger: ids.length, proxy: proxy.stats })}`)
}

describe('torture: chaos', () => {
  for (const seed of tortureSeeds([1], [101, 102, 103])) {
    it(`[CHAOS-1] seed ${seed}: a bad network, offline devices and SIGKILLs lose nothing and end identical`, () => runChaos(seed), timeoutFor(SCALE.chaos.seconds + 60))
  }
})
