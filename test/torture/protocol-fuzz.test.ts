/**
 * [FUZZ-PROTO-1] Frames made by mutating valid ones — truncated varints, absurd lengths, random
 * update bytes, wrong message types and sync steps, valid frames in the wrong order or twice, forged
 * delete sets, oversized presence — sent before and after authentication, on many short-lived
 * connections. The server stays up, its memory stays bounded, a well-behaved device connected all
 * along keeps syncing, and no document is corrupted: the live document is valid under every rule,
 * and the server restarted from its store holds exactly the same document.
 *
 * Short in `npm test` (SCALE.protocolFrames frames), at least 100,000 frames in `npm run torture`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WS from 'ws'
import * as Y from 'yjs'
import { seededRandom } from '../../sync/ids.js'
import { Inventory, InventoryError } from '../../sync/inventory.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor } from '../../sync/origin.js'
import { MESSAGE } from '../../sync/protocol.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { hashPassword } from '../../server/auth/passwords.js'
import { issueTokens } from '../../server/auth/tokens.js'
import { SERVER_USER_ID } from '../../server/relay/types.js'
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import type { UserRecord } from '../../server/storage/types.js'
import { documentState, stateDiff, stateProblems } from '../support/doc-state.js'
import { Rng } from '../support/fuzz.js'
import { providerFor, startServerProcess } from '../support/process.js'
import type { ServerProcess } from '../support/process.js'
import { SECRET, eventually } from '../support/server.js'
import { SCALE, SHORT_SCALE, timeoutFor, tortureSeeds } from '../support/torture.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const rssMB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024

const message = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder()
  write(e)
  return encoding.toUint8Array(e)
}
const syncFrame = (step: number, payload: Uint8Array) =>
  message((e) => (encoding.writeVarUint(e, MESSAGE.sync), encoding.writeVarUint(e, step), encoding.writeVarUint8Array(e, payload)))
const awarenessFrame = (entries: ReadonlyArray<[number, number, string]>) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE.awareness)
    encoding.writeVarUint8Array(e, message((a) => {
      encoding.writeVarUint(a, entries.length)
      for (const [client, clock, json] of entries) (encoding.writeVarUint(a, client), encoding.writeVarUint(a, clock), encoding.writeVarString(a, json))
    }))
  })
/** A well-formed update with no structs and one delete range: the bytes of a forged deletion. */
const deleteSetUpdate = (client: number, clock: number, length: number) =>
  message((e) => {
    encoding.writeVarUint(e, 0) // no structs
    encoding.writeVarUint(e, 1) // one client in the delete set
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, clock)
    encoding.writeVarUint(e, length)
  })

interface Stats {
  frames: number
  connections: number
  byMode: Record<string, number>
  byMutation: Record<string, number>
  closes: Record<string, number>
  sentBeforeRefusal: number
}

/**
 * The hostile side: an editor's own document (so its valid updates build on content the server
 * knows or, after a lost frame, does not), from which valid frames are made and then mutated.
 */
class Fuzzer {
  readonly stats: Stats = { frames: 0, connections: 0, byMode: {}, byMutation: {}, closes: {}, sentBeforeRefusal: 0 }
  private readonly doc = new Y.Doc()
  private readonly inv: Inventory
  private readonly updates: Uint8Array[] = []
  private readonly ids: RandomIds

  constructor(
    private readonly rng: Rng,
    private readonly user: UserRecord,
    catalogue: Uint8Array,
    private readonly items: readonly string[],
    private readonly locations: readonly string[],
    private readonly victims: () => number[],
  ) {
    Y.applyUpdate(this.doc, catalogue, 'server')
    this.doc.clientID = rng.int(1, 0xffff_fffe)
    this.ids = new RandomIds(rng)
    this.inv = new Inventory(this.doc, { userId: user.id, random: seededRandom(rng.seed32()) })
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'server') this.updates.push(u)
    })
  }

  /**
   * What the server sent on a connection that got through authentication: applied to the hostile
   * document, and the server's sync step 1 answered with what it lacks, as a real client would. So
   * the hostile updates keep building on content the server has, and reach its rules, instead of
   * waiting for good behind the first frame that got mangled.
   */
  receive(frame: Uint8Array, reply: (frame: Uint8Array) => void): void {
    try {
      const d = decoding.createDecoder(frame)
      if (decoding.readVarUint(d) !== MESSAGE.sync) return
      const step = decoding.readVarUint(d)
      const payload = decoding.readVarUint8Array(d)
      if (step === 0) reply(syncFrame(1, Y.encodeStateAsUpdate(this.doc, payload)))
      else Y.applyUpdate(this.doc, payload, 'server')
    } catch {
      // the fuzzer's own document is not under test
    }
  }

  /**
   * A valid frame of some kind, made from the hostile document. That document may lack what a
   * mangled or missed frame carried (it catches up on the next connection's sync), so the API may
   * refuse a movement there: then the frame is a sync step 1 instead.
   */
  private valid(): { frame: Uint8Array; kind: string } {
    try {
      return this.made()
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      return { frame: syncFrame(0, Y.encodeStateVector(this.doc)), kind: 'step1' }
    }
  }

  private made(): { frame: Uint8Array; kind: string } {
    const rng = this.rng
    const kind = rng.weighted([[6, 'movement'], [2, 'bad-movement'], [2, 'item-edit'], [1, 'step1'], [2, 'old-update'], [2, 'awareness'], [1, 'query'], [1, 'forged-delete']] as const)
    const item = rng.pick(this.items)
    const location = rng.pick(this.locations)
    switch (kind) {
      case 'movement': {
        const before = this.updates.length
        this.inv.receive({ item, location, quantity: rng.int(1, 5) })
        return { frame: syncFrame(2, this.updates[before] as Uint8Array), kind }
      }
      case 'bad-movement': {
        const before = this.updates.length
        const ledger = this.doc.getArray<unknown>(ROOT.movements)
        const record = rng.pick<Record<string, unknown>>([
          { id: this.ids.next(), item, location, delta: 5, kind: 'receive', by: 'someone-else', at: 1 },
          { id: this.ids.next(), item: 'it_nothing', location, delta: 5, kind: 'receive', by: this.user.id, at: 1 },
          { id: this.ids.next(), item, location, delta: 'lots', kind: 'receive', by: this.user.id, at: 1 },
          { id: this.ids.next(), item, location, delta: 1, kind: 'restore', reason: 'x', by: this.user.id, at: 1 },
        ])
        ledger.insert(ledger.length, [record])
        return { frame: syncFrame(2, this.updates[before] as Uint8Array), kind }
      }
      case 'item-edit': {
        const before = this.updates.length
        const map = this.doc.getMap<Y.Map<unknown>>(ROOT.items).get(item)
        map?.set(rng.pick(['name', 'reorderPoint', 'colour']), rng.pick<unknown>(['Renamed', 7, -1, { a: 1 }]))
        const update = this.updates[before]
        return update ? { frame: syncFrame(2, update), kind } : this.valid()
      }
      case 'step1':
        return { frame: syncFrame(0, Y.encodeStateVector(this.doc)), kind }
      case 'old-update':
        // Valid, but maybe already sent, maybe after updates that build on it: the wrong order.
        return this.updates.length > 0 ? { frame: syncFrame(rng.pick([1, 2]), rng.pick(this.updates)), kind } : this.valid()
      case 'awareness': {
        const victims = this.victims()
        const client = rng.chance(0.5) && victims.length > 0 ? rng.pick(victims) : rng.int(1, 0xffff_fffe)
        const json = rng.pick([JSON.stringify({ user: { id: 'admin', name: 'Admin' } }), 'null', '{"cursor":', 'x'.repeat(rng.int(4000, 9000)), '[1,2,3]', '"text"'])
        return { frame: awarenessFrame([[client, rng.int(0, 2 ** 31), json]]), kind }
      }
      case 'query':
        return { frame: message((e) => encoding.writeVarUint(e, MESSAGE.queryAwareness)), kind }
      case 'forged-delete': {
        const victims = this.victims()
        const client = victims.length > 0 ? rng.pick(victims) : this.doc.clientID
        return { frame: syncFrame(2, deleteSetUpdate(client, rng.int(0, 50), rng.pick([1, 5, 2 ** 20, 2 ** 31]))), kind }
      }
    }
  }

  /** One frame to send: valid, or a valid one mutated. */
  next(): Uint8Array {
    const rng = this.rng
    const { frame, kind } = this.valid()
    const mutation = rng.weighted([
      [3, 'none'], [3, 'truncate'], [2, 'truncate-tail'], [2, 'truncated-varint'], [2, 'absurd-length'], [3, 'flip-bytes'], [2, 'random-update'],
      [2, 'wrong-type'], [1, 'wrong-step'], [1, 'insert-bytes'], [1, 'two-messages'], [1, 'empty'], [1, 'random-bytes'],
    ] as const)
    const key = `${kind}/${mutation}`
    this.stats.byMutation[mutation] = (this.stats.byMutation[mutation] ?? 0) + 1
    void key
    switch (mutation) {
      case 'none':
        return frame
      case 'truncate':
        return frame.slice(0, rng.int(0, Math.max(0, frame.length - 1)))
      case 'truncate-tail':
        // The last bytes of an update are its delete set: cut there, the structs stay whole.
        return frame.slice(0, Math.max(0, frame.length - rng.int(1, 3)))
      case 'truncated-varint':
        return Uint8Array.from([...frame.slice(0, rng.int(0, frame.length)), ...Array.from({ length: rng.int(1, 9) }, () => 0x80 | rng.int(0, 127))])
      case 'absurd-length': {
        const huge = rng.pick([2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, frame.length + 1, frame.length * 1000, 0x7fffffff])
        return message((e) => (encoding.writeVarUint(e, rng.pick([0, 1])), encoding.writeVarUint(e, rng.int(0, 2)), encoding.writeVarUint(e, huge), encoding.writeUint8Array(e, frame.slice(3))))
      }
      case 'flip-bytes': {
        const out = frame.slice()
        for (let i = 0, n = rng.int(1, 8); i < n && out.length > 0; i++) out[rng.int(0, out.length - 1)] = rng.int(0, 255)
        return out
      }
      case 'random-update':
        return syncFrame(rng.pick([1, 2]), Uint8Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255)))
      case 'wrong-type':
        return message((e) => (encoding.writeVarUint(e, rng.pick([2, 4, 5, 7, 8, 99, 100, 101, 127, 128, 1000, 2 ** 32])), encoding.writeUint8Array(e, frame.slice(1))))
      case 'wrong-step':
        return message((e) => (encoding.writeVarUint(e, MESSAGE.sync), encoding.writeVarUint(e, rng.int(3, 300)), encoding.writeUint8Array(e, frame.slice(2))))
      case 'insert-bytes': {
        const at = rng.int(0, frame.length)
        return Uint8Array.from([...frame.slice(0, at), ...Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255)), ...frame.slice(at)])
      }
      case 'two-messages':
        return Uint8Array.from([...frame, ...this.valid().frame])
      case 'empty':
        return new Uint8Array(0)
      case 'random-bytes':
        return Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))
    }
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  destroy(): void {
    this.inv.destroy()
    this.doc.destroy()
  }
}

/** Movement ids for hostile records (seeded, so a seed replays the same bytes). */
class RandomIds {
  private n = 0
  constructor(private readonly rng: Rng) {}
  next(): string {
    return `mv_fz${this.rng.int(0, 0xffffff).toString(36)}${(this.n++).toString(36)}xx`
  }
}

const runFuzz = async (seed: number, target: number): Promise<void> => {
  const rng = new Rng(seed)
  const dataDir = mkdtempSync(join(tmpdir(), 'qm-fuzz-'))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const setup = openSqliteStorage(dataDir)
  await setup.createTenant({ id: 'acme', name: 'Acme' })
  await setup.createTenant({ id: 'globex', name: 'Globex' })
  const hash = await hashPassword('a long enough password')
  const good = await setup.createUser({ tenant: 'acme', username: 'good', name: 'Good', role: 'editor', passwordHash: hash })
  const mallory = await setup.createUser({ tenant: 'acme', username: 'mallory', name: 'Mallory', role: 'editor', passwordHash: hash })
  const vic = await setup.createUser({ tenant: 'acme', username: 'vic', name: 'Vic', role: 'viewer', passwordHash: hash })
  const gus = await setup.createUser({ tenant: 'globex', username: 'gus', name: 'Gus', role: 'editor', passwordHash: hash })
  const users = [good, mallory, vic, gus]
  await setup.close()
  // The update rate limit would only slow the fuzzer down; everything else is as deployed.
  const env = { MAX_UPDATES_PER_SECOND: '100000', UPDATE_BURST: '100000' }
  let server: ServerProcess = await startServerProcess(dataDir, 0, env)
  cleanups.push(() => {
    server.child.kill('SIGKILL')
  })
  const port = server.port

  // The well-behaved devices: one writes all along, one watches.
  const writer = await providerFor(port, good, { ext: true })
  writer.messageHandlers[MESSAGE.durable] = () => undefined
  writer.messageHandlers[MESSAGE.rejected] = () => undefined
  const watcher = await providerFor(port, good)
  cleanups.push(() => writer.destroy(), () => watcher.destroy())
  await eventually(() => expect(writer.synced && watcher.synced).toBe(true), 30_000)
  const inv = new Inventory(writer.doc, { userId: good.id, random: seededRandom(rng.seed32()) })
  const watched = new Inventory(watcher.doc, { userId: good.id })
  const locations = ['Dock', 'Aisle'].map((name) => inv.createLocation({ name }) as string)
  const items = Array.from({ length: 4 }, (_, i) => inv.createItem({ sku: `SKU-${i}`, name: `Part ${i}` }) as string)
  const made: Movement[] = []
  for (const item of items) made.push(inv.receive({ item, location: locations[0] as string, quantity: 100 }))
  await eventually(() => expect(watched.listItems().length).toBe(items.length), 30_000)

  const fuzzer = new Fuzzer(rng, mallory, Y.encodeStateAsUpdate(writer.doc), items, locations, () => [writer.doc.clientID, watcher.awareness.clientID])
  cleanups.push(() => fuzzer.destroy())
  const token = async (u: UserRecord) => (await issueTokens(SECRET, u)).token
  const tokens = { mallory: await token(mallory), vic: await token(vic), gus: await token(gus) }
  const stats = fuzzer.stats
  const rss: number[] = []
  const sampler = setInterval(() => {
    try {
      rss.push(rssMB(server.child.pid ?? -1))
    } catch {
      // the process is between a kill and a restart
    }
  }, 250)
  cleanups.push(() => clearInterval(sampler))

  // The good device keeps writing; the watcher must keep up.
  let writing = true
  let lastProgress = Date.now()
  let seen = 0
  let worstStall = 0
  const goodLoop = (async () => {
    while (writing) {
      made.push(rng.chance(0.5) ? inv.pick({ item: rng.pick(items), location: locations[0] as string, quantity: 1 }) : inv.receive({ item: rng.pick(items), location: locations[1] as string, quantity: 2 }))
      await sleep(40)
      const n = watched.movements.length
      if (n > seen) {
        seen = n
        worstStall = Math.max(worstStall, Date.now() - lastProgress)
        lastProgress = Date.now()
      }
    }
  })()

  /** One short-lived hostile connection. */
  const connection = async (): Promise<void> => {
    const mode = rng.weighted([[6, 'after-auth'], [2, 'before-auth'], [1, 'bad-token'], [1, 'other-tenant'], [1, 'viewer']] as const)
    stats.connections++
    stats.byMode[mode] = (stats.byMode[mode] ?? 0) + 1
    const t = mode === 'bad-token' ? rng.pick(['', 'garbage', tokens.mallory.slice(0, -3) + 'AAA']) : mode === 'viewer' ? tokens.vic : mode === 'other-tenant' ? tokens.gus : tokens.mallory
    const ws = new WS(`ws://127.0.0.1:${server.port}/sync/acme?ext=1&token=${encodeURIComponent(t)}`, { perMessageDeflate: false })
    const received: number[] = []
    let greeted: () => void = () => {}
    const greeting = new Promise<void>((resolve) => (greeted = resolve))
    ws.on('message', (m: Buffer) => {
      received.push(m[0] ?? -1)
      greeted()
      if (mode === 'after-auth' && ws.readyState === WS.OPEN) fuzzer.receive(new Uint8Array(m), (f) => ws.send(f))
    })
    ws.on('error', () => undefined)
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
    const opened = await Promise.race([new Promise<boolean>((resolve) => ws.once('open', () => resolve(true))), closed.then(() => false)])
    if (!opened) return
    if (mode === 'after-auth' || mode === 'viewer') await Promise.race([greeting, closed, sleep(2000)])
    if (mode === 'after-auth' && ws.readyState === WS.OPEN) ws.send(syncFrame(0, fuzzer.stateVector()))
    for (let i = 0, n = rng.int(1, 40); i < n && stats.frames < target && ws.readyState === WS.OPEN; i++) {
      ws.send(fuzzer.next())
      stats.frames++
      if (ws.bufferedAmount > 1024 * 1024) await sleep(5)
      if (i % 8 === 7) await sleep(0)
    }
    if (mode === 'bad-token' || mode === 'other-tenant') {
      const code = await Promise.race([closed, sleep(5000).then(() => -1)])
      // [CONN-1] [ISO-2]: refused with a named code, and nothing was sent before the refusal.
      expect([4401, 4403], `seed ${seed}: ${mode} closed with ${code}`).toContain(code)
      stats.sentBeforeRefusal += received.length
    } else if (rng.chance(0.7)) {
      ws.close()
    } else ws.terminate()
    const code = await Promise.race([closed, sleep(5000).then(() => -1)])
    stats.closes[String(code)] = (stats.closes[String(code)] ?? 0) + 1
  }
  const started = Date.now()
  // Progress (every tenth of the run): how fast, how big the document, how much memory.
  const progress = openSqliteStorage(dataDir)
  cleanups.push(() => progress.close())
  let nextReport = target / 10
  const workers = Array.from({ length: 4 }, async () => {
    while (stats.frames < target) {
      if (stats.frames >= nextReport) {
        nextReport += target / 10
        const bytes = await progress.documentSize('acme')
        console.info(`[FUZZ-PROTO-1] seed ${seed}: ${stats.frames} frames, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${rssMB(server.child.pid ?? -1).toFixed(0)} MB, document ${(bytes / 1024).toFixed(0)} KiB stored, ${writer.doc.getArray(ROOT.movements).length} movements`)
      }
      await connection()
      expect(server.child.exitCode, `seed ${seed}: the server died:\n${server.output.slice(-20).join('')}`).toBeNull()
    }
  })
  await Promise.all(workers)
  const fuzzSeconds = (Date.now() - started) / 1000
  writing = false
  await goodLoop
  clearInterval(sampler)

  // The server is up, and the good devices caught up with everything the writer made.
  expect(server.child.exitCode).toBeNull()
  expect((await fetch(`http://127.0.0.1:${server.port}/api/health`)).status).toBe(200)
  expect(stats.sentBeforeRefusal, 'frames the server sent to connections it refused').toBe(0)
  try {
    await eventually(() => expect(watched.movements.length).toBe(writer.doc.getArray(ROOT.movements).length), 30_000)
  } catch (err) {
    console.error('DEBUG watcher', { connected: watcher.wsconnected, synced: watcher.synced, pending: watcher.doc.store.pendingStructs !== null, pendingDs: watcher.doc.store.pendingDs !== null, writerPending: writer.doc.store.pendingStructs !== null, sv: [...Y.decodeStateVector(Y.encodeStateVector(watcher.doc))], wsv: [...Y.decodeStateVector(Y.encodeStateVector(writer.doc))], missing: watcher.doc.store.pendingStructs ? [...watcher.doc.store.pendingStructs.missing] : null })
    console.error(server.output.slice(-30).join(''))
    throw err
  }
  expect(worstStall, `seed ${seed}: the watcher saw no new movement for ${worstStall} ms`).toBeLessThan(15_000)

  // Memory stays bounded: no growth worth the name after the first fifth of the run.
  const warm = rss.slice(0, Math.max(1, Math.floor(rss.length / 5)))
  const base = Math.max(...warm)
  const peak = Math.max(...rss)
  const end = rss[rss.length - 1] ?? NaN
  expect(peak - base, `seed ${seed}: RSS rose from ${base.toFixed(0)} to ${peak.toFixed(0)} MB`).toBeLessThan(200)

  // No document is corrupted: the live one is valid, every good movement is in it once ...
  const late = await providerFor(server.port, good)
  cleanups.push(() => late.destroy())
  await eventually(() => expect(late.synced).toBe(true), 30_000)
  const ids = late.doc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id)
  for (const m of made) expect(ids.filter((id) => id === m.id), `seed ${seed}: good movement ${m.id}`).toHaveLength(1)
  const storage = openSqliteStorage(dataDir)
  const owners = await storage.clientIdOwners('acme', [...late.doc.store.clients.keys()])
  await storage.close()
  const byId = new Map(users.map((u) => [u.id, u]))
  const authorOf = (client: number): Actor => {
    const owner = owners.get(client)
    if (owner === SERVER_USER_ID) return SERVER_ACTOR
    const u = owner === undefined ? undefined : byId.get(owner)
    if (!u) throw new Error(`client id ${client} has no owner`)
    return { kind: 'user', userId: u.id, role: u.role }
  }
  expect(stateProblems(late.doc, { authorOf, ledgerComplete: true }), `seed ${seed}: the live document`).toEqual([])
  const live = documentState(late.doc)
  expect(JSON.stringify(documentState(watcher.doc)) === JSON.stringify(live), `seed ${seed}: the watcher differs`).toBe(true)

  // ... and the server restarted from its store holds exactly the same document.
  server.child.kill('SIGKILL')
  await new Promise((r) => server.child.once('exit', r))
  server = await startServerProcess(dataDir, port, env)
  const again = await providerFor(server.port, good)
  cleanups.push(() => again.destroy())
  await eventually(() => expect(again.synced).toBe(true), 30_000)
  const restored = documentState(again.doc)
  if (JSON.stringify(restored) !== JSON.stringify(live)) throw new Error(`seed ${seed}: the stored document differs from the live one:\n${stateDiff(restored, live, 'stored', 'live')}`)
  inv.destroy()
  watched.destroy()
  console.info(`[FUZZ-PROTO-1] seed ${seed}: ${JSON.stringify({ ...stats, seconds: fuzzSeconds, rssMB: { afterWarmUp: +base.toFixed(1), peak: +peak.toFixed(1), end: +end.toFixed(1) }, worstStallMs: worstStall, goodMovements: made.length })}`)
}

const SHORT_FRAMES = SHORT_SCALE.protocolFrames

interface Pinned {
  readonly seed: number
  readonly why: string
}

/**
 * Seeds that once failed (run at the short scale in every `npm test`); the bugs behind them are
 * fixed and each has a focused test in test/torture/regressions.test.ts.
 */
const PINNED_SEEDS: readonly Pinned[] = [
  {
    seed: 1,
    why: 'a forged delete set naming the good device\'s future clocks erased its later movements (FUZZ-PROTO-3); a frame cut short in its delete set left unjudged content in the document (FUZZ-PROTO-2)',
  },
]

describe('torture: protocol fuzz', () => {
  for (const seed of tortureSeeds([2], [11, 12])) {
    it(`[FUZZ-PROTO-1] seed ${seed}: ${SCALE.protocolFrames} mutated frames before and after authentication; the server stays up and bounded, a good device keeps syncing, no document is corrupted`, () => runFuzz(seed, SCALE.protocolFrames), timeoutFor(SCALE.protocolFrames / 200))
  }
  for (const { seed, why } of PINNED_SEEDS) {
    it(`[FUZZ-PROTO-1] pinned seed ${seed} (${why})`, () => runFuzz(seed, SHORT_FRAMES), timeoutFor(SHORT_FRAMES / 200))
  }
})
