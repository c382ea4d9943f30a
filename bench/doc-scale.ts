/**
 * doc-scale: how big and how fast is one tenant document at warehouse scale?
 *
 * Builds a tenant with 10,000 items in 5 locations and 100,000 movements, written by 10 simulated
 * devices (8 users) through the Inventory API. Devices work in rounds and sync through a relay doc
 * (the server's copy) the way y-websocket does: each device's local updates go to the relay, which
 * applies them and forwards them to every other device. Devices are idle some rounds, and now and then one drops
 * offline for a while and comes back with a batch, so the movements array interleaves runs from
 * many clients like a real multi-device document.
 *
 * The server's copy is saved at 0 movements (catalogue only), at about 10k and at 100k movements.
 * Each of these is measured in a fresh child process (so the build's garbage and the other sizes do
 * not distort times or heap): encoded size (V1, V2), encode time, load time, index build time,
 * load time with the index attached, one write through Inventory and the reads after it,
 * listItems(), heap after GC, and a raw Y.Array append (push vs insert at the end), because
 * Inventory appends with push().
 *
 * Run: npm run bench:doc-scale   (node --expose-gc --import tsx bench/doc-scale.ts)
 * Environment: DOC_SCALE_MOVEMENTS (default 100000), DOC_SCALE_ITEMS (default 10000) for a quick try;
 * DOC_SCALE_SAVE=dir keeps each measured document as dir/tenant-<movements>.v1.bin (a realistic
 * fixture for other benchmarks); DOC_SCALE_BUILD_ONLY=1 stops after the build.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { seededRandom } from '../sync/ids.js'
import type { RandomSource } from '../sync/ids.js'
import { Inventory } from '../sync/inventory.js'
import { LedgerIndex } from '../sync/ledger-index.js'
import type { InventoryCounts } from '../sync/ledger-index.js'
import { ROOT } from '../sync/schema.js'
import type { Movement } from '../sync/schema.js'

// ---- parameters ------------------------------------------------------------------------------

const envInt = (name: string, fallback: number): number => {
  const v = process.env[name]
  const n = v === undefined ? NaN : Number(v)
  return Number.isSafeInteger(n) && n > 0 ? n : fallback
}

const ITEMS = envInt('DOC_SCALE_ITEMS', 10_000)
const LOCATIONS = 5
const MOVEMENTS = envInt('DOC_SCALE_MOVEMENTS', 100_000)
const DEVICES = 10
const USERS = 8
const SEED = 20261122
/** Ledger size at which the server's copy is measured besides 0 and the full document. */
const CHECKPOINT = Math.round(MOVEMENTS / 10)
const REPS = { load: 5, loadV2: 3, loadWithIndex: 3, index: 5, encode: 3, listItems: 7, incremental: 2000, warmup: 300, append: 500 }

const YJS_VERSION = ((): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../node_modules/yjs/package.json', import.meta.url), 'utf8'))
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : '?'
  } catch {
    return '?'
  }
})()

const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    throw new Error('run with node --expose-gc (npm run bench:doc-scale)')
  })

// ---- small helpers ---------------------------------------------------------------------------

const nowNs = (): bigint => process.hrtime.bigint()
const msSince = (t0: bigint): number => Number(nowNs() - t0) / 1e6
const usSince = (t0: bigint): number => Number(nowNs() - t0) / 1e3

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b)
const median = (xs: readonly number[]): number => {
  const s = sorted(xs)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}
const p95 = (xs: readonly number[]): number => {
  const s = sorted(xs)
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] as number
}

const heapUsed = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MB = (bytes: number): number => bytes / (1024 * 1024)
const round = (x: number, digits = 3): number => Number(x.toFixed(digits))

/** Keeps results alive so that the timed reads cannot be optimised away. */
let sink = 0

// ---- building the tenant (parent process) ----------------------------------------------------

const RELAY = Symbol('relay')

interface Device {
  readonly name: string
  readonly doc: Y.Doc
  readonly inv: Inventory
  outbox: Uint8Array[]
  inbox: Uint8Array[]
  offlineRounds: number
  /** Whether the movements array has a Yjs search marker near its end (see primeAppend). */
  primed: boolean
}

interface Snapshot {
  readonly movements: number
  readonly v1: Uint8Array
  readonly v2: Uint8Array
}

interface Built {
  /** The server's copy at 0 movements, at the checkpoint, and at the end. */
  readonly snapshots: Snapshot[]
  readonly buildMs: number
  readonly rounds: number
  readonly relayApplies: number
  readonly itemEdits: number
  readonly kinds: Record<string, number>
  readonly deviceCounts: InventoryCounts
  /** Median time (µs) of a device's first append after a sync, near the checkpoint and near the end. */
  readonly firstAppendUs: { readonly atCheckpoint: number; readonly atEnd: number }
}

const UNITS = ['each', 'box', 'kg', 'm', 'pack', 'pair'] as const
const ADJUST_REASONS = ['damaged', 'found on shelf', 'expired', 'sample', 'write-off'] as const
const NOUNS = ['bolt', 'nut', 'washer', 'bracket', 'cable', 'filter', 'valve', 'seal'] as const

const pickOf = <T>(random: RandomSource, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T

const build = (): Built => {
  const t0 = nowNs()
  const random = seededRandom(SEED)
  // Yjs client ids are random by default; fixed ones make the document (and its size) reproducible.
  const clientId = () => 1 + Math.floor(random() * 0xfffffffe)
  let clock = Date.UTC(2026, 0, 5, 7, 0, 0)
  const now = () => clock

  // The server's copy. Like a y-websocket server, the relay applies each device's update to its
  // copy and forwards the same update to every other device.
  const relay = new Y.Doc()
  relay.clientID = clientId()
  relay.transact(() => relay.getMap(ROOT.meta).set('schemaVersion', 1), 'server')
  const serverState = Y.encodeStateAsUpdate(relay)
  const devices: Device[] = []
  for (let k = 0; k < DEVICES; k++) {
    const doc = new Y.Doc()
    doc.clientID = clientId()
    const device: Device = {
      name: `device-${k}`,
      doc,
      inv: new Inventory(doc, { userId: `staff-${k % USERS}`, random: seededRandom(SEED + 1 + k), now }),
      outbox: [],
      inbox: [serverState],
      offlineRounds: 0,
      primed: false,
    }
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== RELAY) device.outbox.push(update)
    })
    devices.push(device)
  }
  const device = (k: number): Device => devices[k] as Device

  // Queued updates are applied in one transaction per direction, as a burst of messages would be.
  let relayApplies = 0
  const deliver = (to: Y.Doc, updates: readonly Uint8Array[], origin: unknown) => {
    to.transact(() => {
      for (const u of updates) Y.applyUpdate(to, u, origin)
    }, origin)
    relayApplies++
  }
  const sync = (d: Device) => {
    if (d.outbox.length > 0) {
      const up = d.outbox
      d.outbox = []
      deliver(relay, up, d)
      for (const other of devices) if (other !== d) other.inbox.push(...up)
    }
    if (d.inbox.length > 0) {
      const down = d.inbox
      d.inbox = []
      deliver(d.doc, down, RELAY)
      d.primed = false // Yjs drops a type's search markers when a remote change touches it
    }
  }
  const syncOnline = () => {
    for (const d of devices) if (d.offlineRounds === 0) sync(d)
  }
  // Build-time shortcut. Y.Array.push (what Inventory.record uses) walks the movements list from
  // its first struct unless a search marker exists; a read by index leaves one near the end, and
  // Yjs keeps it across local writes but drops it on every remote change. Priming each active
  // device once after a sync, instead of walking on every push, shortens the build. It does not
  // change the document (push appends after the last struct either way). The priming read walks
  // the list exactly as the first push after a sync would, so its time is that push's walk on a
  // long-lived replica; it is recorded near the checkpoint and near the end.
  const walkNearCheckpoint: number[] = []
  const walkNearEnd: number[] = []
  const primeAppend = (d: Device) => {
    if (d.primed) return
    const n = d.inv.movements.length
    if (n > 0) {
      const t = nowNs()
      d.inv.movements.get(n - 1)
      const us = usSince(t)
      if (Math.abs(n - CHECKPOINT) <= MOVEMENTS / 50) walkNearCheckpoint.push(us)
      else if (n >= MOVEMENTS * 0.96) walkNearEnd.push(us)
    }
    d.primed = true
  }

  const snapshots: Snapshot[] = []
  const relayMovements = relay.getArray(ROOT.movements)
  const snapshot = () =>
    snapshots.push({ movements: relayMovements.length, v1: Y.encodeStateAsUpdate(relay), v2: Y.encodeStateAsUpdateV2(relay) })

  // Setup: the server has declared the schema; an admin creates the locations; two office devices
  // import the catalogue in chunks of 250, syncing in between.
  const admin = device(0).inv
  const locations: string[] = []
  for (let l = 0; l < LOCATIONS; l++) locations.push(admin.createLocation({ name: `Zone ${String.fromCharCode(65 + l)}` }))
  syncOnline()
  const items: string[] = []
  const CHUNK = 250
  for (let i = 0; i < ITEMS; i += CHUNK) {
    const inv = device((i / CHUNK) % 2).inv
    for (let j = i; j < Math.min(ITEMS, i + CHUNK); j++) {
      clock += 500
      const withBarcode = random() < 0.8
      items.push(
        inv.createItem({
          sku: `SKU-${String(j).padStart(6, '0')}`,
          name: `Part ${j} ${pickOf(random, NOUNS)}`,
          unit: pickOf(random, UNITS),
          reorderPoint: Math.floor(random() * 40),
          reorderQty: 10 + Math.floor(random() * 90),
          ...(withBarcode ? { barcode: String(4_000_000_000_000 + j * 7919) } : {}),
        }),
      )
    }
    syncOnline()
  }
  syncOnline()
  snapshot() // the catalogue alone

  // Movements. Popular items move more (quadratic skew); each item lives mostly in one zone.
  const kinds: Record<string, number> = {}
  let made = 0
  let itemEdits = 0
  const bump = (kind: string) => {
    kinds[kind] = (kinds[kind] ?? 0) + 1
    made++
  }
  const oneOp = (inv: Inventory) => {
    clock += 1_000 + Math.floor(random() * 20_000)
    const itemIx = Math.floor(items.length * random() * random())
    const item = items[itemIx] as string
    const home = locations[itemIx % LOCATIONS] as string
    const location = random() < 0.85 ? home : pickOf(random, locations)
    const r = random()
    if (r < 0.01) {
      // Now and then someone edits the item itself (field-level last-writer-wins).
      if (random() < 0.5) inv.updateItem(item, { reorderPoint: Math.floor(random() * 40) })
      else inv.updateItem(item, { name: `Part ${itemIx} rev ${Math.floor(random() * 100)}` })
      itemEdits++
    } else if (r < 0.27) {
      inv.receive({ item, location, quantity: 5 + Math.floor(random() * 60) })
      bump('receive')
    } else if (r < 0.72) {
      inv.pick({ item, location, quantity: 1 + Math.floor(random() * 5) })
      bump('pick')
    } else if (r < 0.77) {
      const delta = (1 + Math.floor(random() * 3)) * (random() < 0.5 ? -1 : 1)
      inv.adjust({ item, location, delta, reason: pickOf(random, ADJUST_REASONS) })
      bump('adjust')
    } else if (r < 0.87 || made >= MOVEMENTS - 1) {
      // A count: what this device shows, give or take what the counter finds on the shelf.
      const counted = Math.max(0, inv.onHand(item, location) + Math.floor(random() * 5) - 2)
      inv.count({ item, location, counted })
      bump('count')
    } else {
      const to = location === home ? (locations[(itemIx + 1) % LOCATIONS] as string) : home
      inv.transfer({ item, from: location, to, quantity: 1 + Math.floor(random() * 10) })
      bump('transfer-out')
      bump('transfer-in')
    }
  }

  let checkpointTaken = false
  let rounds = 0
  while (made < MOVEMENTS) {
    rounds++
    for (const d of devices) {
      if (d.offlineRounds > 0) d.offlineRounds--
      else if (random() < 0.004) d.offlineRounds = 20 + Math.floor(random() * 150) // a dead zone, a van
      if (random() > 0.6) continue // idle this round
      primeAppend(d)
      const batch = 1 + Math.floor(random() * random() * 12)
      for (let b = 0; b < batch && made < MOVEMENTS; b++) oneOp(d.inv)
    }
    syncOnline()
    if (!checkpointTaken && relayMovements.length >= CHECKPOINT) {
      checkpointTaken = true
      snapshot()
    }
  }
  // Everyone comes back online; two passes so that every device has everything.
  for (const d of devices) d.offlineRounds = 0
  syncOnline()
  syncOnline()
  snapshot()

  // Every device must agree (and agree with the server's copy: checked when that is measured).
  const deviceCounts = admin.totals()
  for (const d of devices) {
    if (JSON.stringify(d.inv.totals()) !== JSON.stringify(deviceCounts)) throw new Error(`${d.name} did not converge`)
  }
  if (relayMovements.length !== MOVEMENTS) throw new Error(`relay has ${relayMovements.length} movements, expected ${MOVEMENTS}`)
  for (const d of devices) {
    d.inv.destroy()
    d.doc.destroy()
  }
  relay.destroy()
  const firstAppendUs = {
    atCheckpoint: walkNearCheckpoint.length > 0 ? median(walkNearCheckpoint) : 0,
    atEnd: walkNearEnd.length > 0 ? median(walkNearEnd) : 0,
  }
  return { snapshots, buildMs: msSince(t0), rounds, relayApplies, itemEdits, kinds, deviceCounts, firstAppendUs }
}

// ---- measuring one document (child process) --------------------------------------------------

interface Measured {
  movements: number
  /** Yjs structs in the movements list: runs of consecutive records from one client. */
  ledgerStructs: number
  clients: number
  v1Bytes: number
  v2Bytes: number
  encodeMs: number
  loadMs: number
  loadV2Ms: number
  indexBuildMs: number
  loadWithIndexMs: number
  heapDocMB: number
  heapIndexMB: number
  heapDocAndIndexMB: number
  heapProcessMB: number
  writeUs: number
  writeP95Us: number
  writePrimedUs: number
  readUs: number
  readP95Us: number
  writeAndReadUs: number
  listItemsMs: number
  pushUs: number
  insertAtEndUs: number
}

const load = (update: Uint8Array, v2 = false): Y.Doc => {
  const doc = new Y.Doc()
  if (v2) Y.applyUpdateV2(doc, update)
  else Y.applyUpdate(doc, update)
  return doc
}

const countStructs = (arr: Y.Array<unknown>): number => {
  let n = 0
  for (let s = arr._start; s !== null; s = s.right) n++
  return n
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

const measure = (v1: Uint8Array, v2: Uint8Array, expect: InventoryCounts | null): Measured => {
  // Heap first, in a clean process: the doc alone, then the index on it, each after a full GC.
  const h0 = heapUsed()
  let doc: Y.Doc | null = load(v1)
  const h1 = heapUsed()
  let index: LedgerIndex | null = new LedgerIndex(doc)
  const h2 = heapUsed()
  const movements = doc.getArray(ROOT.movements).length
  const ledgerStructs = countStructs(doc.getArray(ROOT.movements))
  const clients = doc.store.clients.size
  const encodeTimes: number[] = []
  for (let r = 0; r < REPS.encode; r++) {
    const t = nowNs()
    sink += Y.encodeStateAsUpdate(doc).byteLength
    encodeTimes.push(msSince(t))
  }
  index.destroy()
  doc.destroy()
  index = null
  doc = null

  // Load (V1 and V2) into a fresh doc.
  const loadTimes: number[] = []
  const loadV2Times: number[] = []
  for (let r = 0; r < REPS.load; r++) {
    let t = nowNs()
    load(v1).destroy()
    loadTimes.push(msSince(t))
    if (r >= REPS.loadV2) continue
    t = nowNs()
    load(v2, true).destroy()
    loadV2Times.push(msSince(t))
  }

  // The index built over an already loaded doc.
  const loaded = load(v1)
  const indexTimes: number[] = []
  let rebuilt: InventoryCounts | null = null
  for (let r = 0; r < REPS.index; r++) {
    const t = nowNs()
    const ix = new LedgerIndex(loaded)
    indexTimes.push(msSince(t))
    rebuilt = ix.counts()
    ix.destroy()
  }
  loaded.destroy()

  // Load with the index attached: it follows the load transaction's changes.
  const withIndexTimes: number[] = []
  let live: { doc: Y.Doc; index: LedgerIndex } | null = null
  for (let r = 0; r < REPS.loadWithIndex; r++) {
    const d = new Y.Doc()
    const ix = new LedgerIndex(d)
    const t = nowNs()
    Y.applyUpdate(d, v1)
    withIndexTimes.push(msSince(t))
    if (live) {
      live.index.destroy()
      live.doc.destroy()
    }
    live = { doc: d, index: ix }
  }
  if (!live) throw new Error('unreachable')
  const followed = live.index.counts()
  if (!same(followed, rebuilt)) throw new Error(`index on load ${JSON.stringify(followed)} ≠ rebuilt ${JSON.stringify(rebuilt)}`)
  if (expect && !same(followed, expect)) throw new Error(`server copy ${JSON.stringify(followed)} ≠ devices ${JSON.stringify(expect)}`)

  // Incremental: one movement through the Inventory API, then the reads a screen makes after it.
  const random = seededRandom(SEED + 1000)
  let clock = Date.UTC(2026, 10, 22, 9, 0, 0)
  const inv = new Inventory(live.doc, { userId: 'bench', random, now: () => (clock += 1000), index: live.index })
  const itemIds = [...inv.items.keys()]
  const locationIds = [...inv.locations.keys()]
  const incremental = () => {
    const writes: number[] = []
    const reads: number[] = []
    const both: number[] = []
    for (let r = 0; r < REPS.warmup + REPS.incremental; r++) {
      const item = itemIds[Math.floor(random() * itemIds.length)] as string
      const location = locationIds[Math.floor(random() * locationIds.length)] as string
      const t0 = nowNs()
      switch (r % 4) {
        case 0:
          inv.receive({ item, location, quantity: 10 })
          break
        case 1:
          inv.pick({ item, location, quantity: 2 })
          break
        case 2:
          inv.count({ item, location, counted: 7 })
          break
        default:
          inv.adjust({ item, location, delta: -1, reason: 'damaged' })
      }
      const t1 = nowNs()
      sink += inv.onHand(item) + inv.onHand(item, location)
      sink += inv.status(item).length
      sink += inv.totals().units
      const t2 = nowNs()
      if (r >= REPS.warmup) {
        writes.push(Number(t1 - t0) / 1e3)
        reads.push(Number(t2 - t1) / 1e3)
        both.push(Number(t2 - t0) / 1e3)
      }
    }
    return { writes, reads, both }
  }
  // As a freshly loaded (or just synced) replica: no Yjs search marker on the movements array.
  const { writes, reads, both } = incremental()
  // The same after one read by index near the end: Yjs keeps that marker across local writes, and
  // push() starts from it instead of walking the list. Shows what the walk costs.
  inv.movements.get(inv.movements.length - 1)
  const primedWrites = incremental().writes

  // listItems(): every item with its on-hand, per-location stock and status.
  const listTimes: number[] = []
  for (let r = 0; r < REPS.listItems; r++) {
    const t = nowNs()
    sink += inv.listItems().length
    listTimes.push(msSince(t))
  }
  if (inv.listItems().length !== ITEMS) throw new Error('listItems() did not return every item')
  inv.destroy()
  live.index.destroy()
  live.doc.destroy()

  // Raw Yjs append, no index: push() (what Inventory.record uses) vs insert(length, …).
  const raw = load(v1)
  const arr = raw.getArray<Movement>(ROOT.movements)
  const record = (i: number): Movement => ({
    id: `mv_bench${String(i).padStart(12, '0')}`,
    item: itemIds[i % itemIds.length] as string,
    location: locationIds[i % locationIds.length] as string,
    delta: 1,
    kind: 'receive',
    by: 'bench',
    at: clock + i,
  })
  const pushTimes: number[] = []
  const insertTimes: number[] = []
  // push first: it only uses the search markers that index access leaves, and insert() leaves them.
  for (let r = 0; r < REPS.append; r++) {
    const m = record(r)
    const t = nowNs()
    arr.push([m])
    pushTimes.push(usSince(t))
  }
  for (let r = 0; r < REPS.append; r++) {
    const m = record(REPS.append + r)
    const t = nowNs()
    arr.insert(arr.length, [m])
    insertTimes.push(usSince(t))
  }
  raw.destroy()

  return {
    movements,
    ledgerStructs,
    clients,
    v1Bytes: v1.byteLength,
    v2Bytes: v2.byteLength,
    encodeMs: median(encodeTimes),
    loadMs: median(loadTimes),
    loadV2Ms: median(loadV2Times),
    indexBuildMs: median(indexTimes),
    loadWithIndexMs: median(withIndexTimes),
    heapDocMB: MB(h1 - h0),
    heapIndexMB: MB(h2 - h1),
    heapDocAndIndexMB: MB(h2 - h0),
    heapProcessMB: MB(h2),
    writeUs: median(writes),
    writeP95Us: p95(writes),
    writePrimedUs: median(primedWrites),
    readUs: median(reads),
    readP95Us: p95(reads),
    writeAndReadUs: median(both),
    listItemsMs: median(listTimes),
    pushUs: median(pushTimes),
    insertAtEndUs: median(insertTimes),
  }
}

const CHILD_FLAG = '--measure-child'

/** Child: measures the document in `dir/tenant-<n>.v1.bin` (+ .v2.bin) and prints one JSON line. */
const child = (base: string) => {
  const expectJson = process.env.DOC_SCALE_EXPECT
  const expect = expectJson ? (JSON.parse(expectJson) as InventoryCounts) : null
  const result = measure(readFileSync(`${base}.v1.bin`), readFileSync(`${base}.v2.bin`), expect)
  process.stdout.write(JSON.stringify({ result, sink: sink % 10 }) + '\n')
}

const measureInChild = (base: string, expect: InventoryCounts | null): Measured => {
  const script = fileURLToPath(import.meta.url)
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (expect) env.DOC_SCALE_EXPECT = JSON.stringify(expect)
  else delete env.DOC_SCALE_EXPECT
  const out = spawnSync(process.execPath, [...process.execArgv, script, CHILD_FLAG, base], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  })
  if (out.status !== 0) throw new Error(`measuring ${base} failed (exit ${out.status ?? out.signal})`)
  const line = out.stdout.trim().split('\n').pop() ?? ''
  return (JSON.parse(line) as { result: Measured }).result
}

// ---- report ----------------------------------------------------------------------------------

const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|'
  return [line(header), sep, ...rows.map(line)].join('\n')
}

const parent = () => {
  const started = nowNs()
  console.log(
    `doc-scale: ${ITEMS} items, ${LOCATIONS} locations, ${MOVEMENTS} movements, ${DEVICES} devices / ${USERS} users; ` +
      `Node ${process.version}, yjs ${YJS_VERSION}, ${cpus().length} cpus`,
  )
  const loadBefore = loadavg()
  const built = build()
  const structsNote = `${built.rounds} rounds, ${built.relayApplies} relay deliveries, ${built.itemEdits} item edits`
  console.log(`built in ${(built.buildMs / 1000).toFixed(1)} s: ${structsNote}; kinds ${JSON.stringify(built.kinds)}`)

  const saveDir = process.env.DOC_SCALE_SAVE
  if (process.env.DOC_SCALE_BUILD_ONLY && !saveDir) return
  const dir = saveDir ?? mkdtempSync(join(tmpdir(), 'doc-scale-'))
  mkdirSync(dir, { recursive: true })
  const bases: string[] = []
  for (const snap of built.snapshots) {
    const base = join(dir, `tenant-${snap.movements}`)
    writeFileSync(`${base}.v1.bin`, snap.v1)
    writeFileSync(`${base}.v2.bin`, snap.v2)
    bases.push(base)
  }
  if (saveDir) console.log(`saved ${bases.length} documents in ${saveDir}`)
  if (process.env.DOC_SCALE_BUILD_ONLY) return
  const snapshotsCount = built.snapshots.length
  const deviceCounts = built.deviceCounts
  const results: Measured[] = []
  try {
    bases.forEach((base, i) => {
      results.push(measureInChild(base, i === snapshotsCount - 1 ? deviceCounts : null))
      console.log(`measured ${base.slice(dir.length + 1)}`)
    })
  } finally {
    if (!saveDir) rmSync(dir, { recursive: true, force: true })
  }

  // Columns: each ledger size, then how the full document compares with the 10% one.
  const tenth = results[1]
  const full = results[results.length - 1]
  if (!tenth || !full) throw new Error('missing results')
  const f = (x: number, d = 1) => x.toFixed(d)
  const n = (x: number) => x.toLocaleString('en-US')
  const ratio = (get: (m: Measured) => number) => {
    const a = get(tenth)
    return a === 0 ? '' : `×${(get(full) / a).toFixed(1)}`
  }
  const row = (label: string, get: (m: Measured) => number, show: (x: number) => string): string[] => [
    label,
    ...results.map((m) => show(get(m))),
    ratio(get),
  ]
  const header = ['movements in the ledger', ...results.map((m) => n(m.movements)), `${n(full.movements)} ÷ ${n(tenth.movements)}`]
  const rows = [
    row('Yjs structs holding the ledger', (m) => m.ledgerStructs, n),
    row('encoded size V1 (bytes)', (m) => m.v1Bytes, n),
    row('encoded size V1 (MB)', (m) => MB(m.v1Bytes), (x) => f(x, 2)),
    row('encoded size V2 (MB)', (m) => MB(m.v2Bytes), (x) => f(x, 2)),
    row('encodeStateAsUpdate (ms)', (m) => m.encodeMs, f),
    row('load: applyUpdate V1 (ms)', (m) => m.loadMs, f),
    row('load: applyUpdateV2 (ms)', (m) => m.loadV2Ms, f),
    row('new LedgerIndex(doc) on loaded doc (ms)', (m) => m.indexBuildMs, f),
    row('load with index attached (ms)', (m) => m.loadWithIndexMs, f),
    row('one movement via Inventory (µs)', (m) => m.writeUs, f),
    row('  p95 (µs)', (m) => m.writeP95Us, f),
    row('  with a search marker at the end (µs)', (m) => m.writePrimedUs, f),
    row('then onHand×2 + status + counts (µs)', (m) => m.readUs, (x) => f(x, 2)),
    row('  p95 (µs)', (m) => m.readP95Us, (x) => f(x, 2)),
    row('write + reads (µs)', (m) => m.writeAndReadUs, f),
    row(`listItems() of ${n(ITEMS)} items (ms)`, (m) => m.listItemsMs, f),
    row('heap after GC: doc (MB)', (m) => m.heapDocMB, f),
    row('heap after GC: index (MB)', (m) => m.heapIndexMB, f),
    row('heap after GC: doc + index (MB)', (m) => m.heapDocAndIndexMB, f),
    row('heap after GC: whole process (MB)', (m) => m.heapProcessMB, f),
    row('raw Y.Array push, no index (µs)', (m) => m.pushUs, (x) => f(x, 2)),
    row('raw Y.Array insert(length) (µs)', (m) => m.insertAtEndUs, (x) => f(x, 2)),
  ]
  const totalS = msSince(started) / 1000
  console.log()
  console.log('Times are medians: load V1 and index 5 runs, load V2 / with index / encode 3, write/read 2,000, listItems 7, raw append 500.')
  console.log(table(header, rows))
  console.log()
  const fa = built.firstAppendUs
  const us = (x: number) => (x > 0 ? `${x.toFixed(0)} µs` : 'n/a')
  console.log(
    `first append after a sync on a long-lived device replica (walk from the list start, median): ` +
      `${us(fa.atCheckpoint)} near ${n(CHECKPOINT)} movements, ${us(fa.atEnd)} near ${n(MOVEMENTS)}`,
  )
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ')
  console.log(`total run time ${totalS.toFixed(1)} s (build ${(built.buildMs / 1000).toFixed(1)} s)`)
  console.log(`load average before ${la(loadBefore)}, after ${la(loadavg())} (other processes make times noisy)`)
  console.log(
    JSON.stringify({
      bench: 'doc-scale',
      node: process.version,
      yjs: YJS_VERSION,
      cpus: cpus().length,
      params: { items: ITEMS, locations: LOCATIONS, movements: MOVEMENTS, devices: DEVICES, users: USERS, seed: SEED, reps: REPS },
      build: {
        ms: round(built.buildMs, 0),
        rounds: built.rounds,
        relayDeliveries: built.relayApplies,
        itemEdits: built.itemEdits,
        kinds: built.kinds,
        firstAppendUs: { atCheckpoint: round(fa.atCheckpoint, 1), atEnd: round(fa.atEnd, 1) },
      },
      results: results.map((m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)]))),
      totalSeconds: round(totalS, 1),
      loadavg: { before: loadBefore.map((x) => round(x, 2)), after: loadavg().map((x) => round(x, 2)) },
    }),
  )
}

const childAt = process.argv.indexOf(CHILD_FLAG)
if (childAt >= 0) child(process.argv[childAt + 1] ?? '')
else parent()
