/**
 * One seeded convergence schedule: several replicas of a tenant document (one of them the server,
 * which compacts), random work through the Inventory API, partitions, and updates delivered out of
 * order and twice. Then a full exchange and every check of [CONV-1] and [LEDGER-1/2/3/8].
 *
 * Every replica records each update it emits; delivery hands a shuffled choice of another replica's
 * recorded updates to a replica in the same partition, some of them again, so Yjs keeps updates
 * with missing dependencies pending and integrates them later.
 */
import * as Y from 'yjs'
import { foldLedger } from '../../sync/fold.js'
import { seededRandom } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'
import { Inventory, InventoryError } from '../../sync/inventory.js'
import type { ItemPatch } from '../../sync/inventory.js'
import type { Origin } from '../../sync/origin.js'
import { ROOT, baselineKey } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { documentState, indexProblems, stateDiff } from './doc-state.js'
import { Rng, RuleBroken, clientIdFrom, replicaSeed } from './fuzz.js'

const COMPACTION: Origin = { source: 'server', reason: 'compaction' }
const SKUS = ['BOLT-10', 'NUT-5', 'WASHER-8', 'SCREW-3', 'PIPE-20', 'TAPE-1', 'GLOVE-L', 'CABLE-2']
const UNITS = ['each', 'box', 'kg', 'm']
const REASONS = ['damaged', 'found', 'stocktake', 'sample', 'return']

/** Counters over a whole run, to show the fuzzer reaches what it claims to. */
export interface ScheduleStats {
  readonly done: Record<string, number>
  readonly refused: Record<string, number>
  deliveries: number
  duplicates: number
  pendingSeen: number
  folds: number
  foldedMovements: number
  concurrentCounts: number
  partitions: number
  midChecks: number
}

export const newStats = (): ScheduleStats => ({
  done: {},
  refused: {},
  deliveries: 0,
  duplicates: 0,
  pendingSeen: 0,
  folds: 0,
  foldedMovements: 0,
  concurrentCounts: 0,
  partitions: 0,
  midChecks: 0,
})

interface Replica {
  readonly n: number
  readonly userId: string
  /** Replaced when the device restarts: a new Y.Doc (and client id) loaded from the stored state. */
  doc: Y.Doc
  inv: Inventory
  readonly now: () => number
  readonly random: RandomSource
  /** Updates of this replica's own transactions (its writes, and compaction on the server). */
  readonly own: Uint8Array[]
  /** Every update this replica emitted, its own and those it integrated from others (a relay). */
  readonly all: Uint8Array[]
  /** Replicas exchange updates only within one group; an offline replica has a group of its own. */
  group: number
}

const ONLINE = 0

export class ConvergenceSchedule {
  readonly rng: Rng
  /** Base seed of the replicas' id generators. */
  private readonly idSeed: number
  readonly trace: string[] = []
  private clock = 1_700_000_000_000
  private readonly replicas: Replica[] = []
  /** The test's own model: every movement any replica made, by id. */
  private readonly model = new Map<string, { readonly m: Movement; readonly replica: number }>()
  private readonly itemIds: string[] = []
  private readonly locationIds: string[] = []
  /** Movement ids returned by every compaction, with how often each was folded. */
  private readonly folded = new Map<string, number>()
  private readonly foldedSums = new Map<string, number>()
  /** delivered[to][from]: indexes of `from.all` already handed to `to`. */
  private readonly delivered: Array<Array<Set<number>>> = []
  /** Every Yjs client id in use, restarts included. */
  private readonly clientIds: number[] = []

  constructor(
    readonly seed: number,
    private readonly stats: ScheduleStats,
  ) {
    this.rng = new Rng(seed)
    this.idSeed = this.rng.seed32()
  }

  private get server(): Replica {
    return this.replicas[0] as Replica
  }

  private note(line: string): void {
    this.trace.push(line)
    if (this.trace.length > 200) this.trace.splice(0, 100)
  }

  private count(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1
  }

  private addReplica(userId: string, clientID: number, from: Y.Doc | null): Replica {
    const n = this.replicas.length
    const skew = n === 0 ? 0 : this.rng.int(-300, 300)
    const now = () => this.clock + skew
    const random = seededRandom(replicaSeed(this.idSeed, n))
    const doc = this.openDoc(clientID, from)
    const inv = new Inventory(doc, { userId, now, random })
    const replica: Replica = { n, userId, doc, inv, now, random, own: [], all: [], group: ONLINE }
    this.record(replica)
    this.replicas.push(replica)
    return replica
  }

  private openDoc(clientID: number, from: Y.Doc | null): Y.Doc {
    const doc = new Y.Doc({ guid: `tenant-${this.seed}` })
    doc.clientID = clientID
    if (from) Y.applyUpdate(doc, Y.encodeStateAsUpdate(from), { source: 'storage' } satisfies Origin)
    return doc
  }

  private record(replica: Replica): void {
    replica.doc.on('update', (update: Uint8Array, origin: unknown) => {
      replica.all.push(update)
      const source = (origin as Origin | null)?.source
      if (source === 'local' || source === 'server') replica.own.push(update)
    })
  }

  /**
   * The device restarts: a new Y.Doc with a new client id loads what was stored (pending updates
   * included, as y-indexeddb would), and a new index is built from it.
   */
  private restart(r: Replica): void {
    const taken = new Set(this.clientIds)
    let clientID = clientIdFrom(this.rng)
    while (taken.has(clientID)) clientID = clientIdFrom(this.rng)
    this.clientIds.push(clientID)
    const doc = this.openDoc(clientID, r.doc)
    r.inv.destroy()
    r.doc.destroy()
    r.doc = doc
    r.inv = new Inventory(doc, { userId: r.userId, now: r.now, random: r.random })
    this.record(r)
    this.count(this.stats.done, 'restart')
    this.note(`r${r.n} restarts as client ${clientID}`)
  }

  /** Run the whole schedule and every final check; throws RuleBroken (or worse) on a failure. */
  run(): void {
    const count = this.rng.chance(0.3) ? 6 : 5
    const ids = new Set<number>()
    while (ids.size < count) ids.add(clientIdFrom(this.rng))
    this.clientIds.push(...ids)
    this.addReplica('admin', this.clientIds[0] as number, null)
    this.setup()
    for (let n = 1; n < count; n++) this.addReplica(`user${n}`, this.clientIds[n] as number, this.server.doc)
    for (let i = 0; i < count; i++) this.delivered.push(Array.from({ length: count }, () => new Set<number>()))
    // The setup is already on every replica; it must not count as undelivered.
    for (let to = 1; to < count; to++) this.server.all.forEach((_, i) => this.delivered[to]?.[0]?.add(i))

    const steps = this.rng.int(20, 70)
    for (let step = 0; step < steps; step++) {
      this.clock += this.rng.int(1, 40)
      const action = this.rng.weighted([
        [55, 'op'],
        [30, 'deliver'],
        [6, 'partition'],
        [5, 'fold'],
        [4, 'check'],
        [1, 'restart'],
      ] as const)
      if (action === 'op') this.randomOp(this.rng.pick(this.replicas))
      else if (action === 'deliver') this.deliverSome()
      else if (action === 'partition') this.partition()
      else if (action === 'fold') this.fold()
      else if (action === 'restart') this.restart(this.rng.pick(this.replicas.slice(1)))
      else this.midCheck()
    }
    this.finalExchange()
    this.checkAll()
    for (const r of this.replicas) {
      r.inv.destroy()
      r.doc.destroy()
    }
  }

  private setup(): void {
    const inv = this.server.inv
    for (let i = 0, n = this.rng.int(1, 3); i < n; i++) this.locationIds.push(inv.createLocation({ name: `Aisle ${i + 1}` }))
    for (let i = 0, n = this.rng.int(1, 3); i < n; i++) {
      this.itemIds.push(inv.createItem({ sku: SKUS[i] as string, name: `Item ${i}`, reorderPoint: this.rng.int(0, 10) }))
    }
    this.note(`setup: ${this.locationIds.length} locations, ${this.itemIds.length} items`)
  }

  // ---- operations -------------------------------------------------------------------------------

  /** Runs one API call; a refusal (InventoryError) is counted and skipped, anything else fails the run. */
  private attempt<T>(r: Replica, kind: string, what: string, fn: () => T): T | undefined {
    try {
      const out = fn()
      this.count(this.stats.done, kind)
      this.note(`r${r.n} ${kind} ${what}`)
      return out
    } catch (e) {
      if (e instanceof InventoryError) {
        this.count(this.stats.refused, `${kind}:${e.code}`)
        this.note(`r${r.n} ${kind} ${what}: refused (${e.code})`)
        return undefined
      }
      throw e
    }
  }

  private remember(r: Replica, movements: readonly Movement[] | undefined): void {
    for (const m of movements ?? []) {
      if (this.model.has(m.id)) throw new RuleBroken('LEDGER-3', `movement id ${m.id} was generated twice`)
      this.model.set(m.id, { m, replica: r.n })
    }
  }

  /** An item this replica knows, mostly; sometimes one it has not received yet (refused). */
  private itemFor(r: Replica): string | undefined {
    const known = [...r.inv.items.keys()]
    if (known.length > 0 && this.rng.chance(0.92)) return this.rng.pick(known)
    return this.itemIds.length > 0 ? this.rng.pick(this.itemIds) : undefined
  }

  private locationFor(r: Replica): string | undefined {
    const known = [...r.inv.locations.keys()]
    if (known.length > 0 && this.rng.chance(0.92)) return this.rng.pick(known)
    return this.locationIds.length > 0 ? this.rng.pick(this.locationIds) : undefined
  }

  private randomOp(r: Replica): void {
    const rng = this.rng
    const kind = rng.weighted([
      [this.locationIds.length < 5 ? 4 : 1, 'createLocation'],
      [this.itemIds.length < 8 ? 5 : 1, 'createItem'],
      [6, 'updateItem'],
      [3, 'archive'],
      [3, 'unarchive'],
      [2, 'updateLocation'],
      [14, 'receive'],
      [10, 'pick'],
      [6, 'adjust'],
      [8, 'count'],
      [4, 'concurrentCount'],
      [8, 'transfer'],
      [6, 'undo'],
    ] as const)
    const item = this.itemFor(r)
    const location = this.locationFor(r)
    switch (kind) {
      case 'createLocation': {
        const id = this.attempt(r, kind, '', () => r.inv.createLocation({ name: `Bay ${rng.int(1, 99)}` }))
        if (id) this.locationIds.push(id)
        return
      }
      case 'createItem': {
        const input: Record<string, unknown> = { sku: rng.pick(SKUS), name: `Part ${rng.int(1, 999)}` }
        if (rng.chance(0.5)) input.reorderPoint = rng.int(0, 15)
        if (rng.chance(0.3)) input.unit = rng.pick(UNITS)
        if (rng.chance(0.3)) input.barcode = String(rng.int(1000, 1020))
        const id = this.attempt(r, kind, String(input.sku), () => r.inv.createItem(input as { sku: string; name: string }))
        if (id) this.itemIds.push(id)
        return
      }
      case 'updateItem': {
        if (!item) return
        const patch: Record<string, unknown> = {}
        for (let i = 0, n = rng.int(1, 3); i < n; i++) {
          const field = rng.pick(['name', 'sku', 'unit', 'barcode', 'reorderPoint', 'reorderQty'] as const)
          if (field === 'name') patch.name = rng.chance(0.05) ? '' : `Part ${rng.int(1, 999)}`
          else if (field === 'sku') patch.sku = rng.pick(SKUS)
          else if (field === 'unit') patch.unit = rng.chance(0.3) ? undefined : rng.pick(UNITS)
          else if (field === 'barcode') patch.barcode = rng.chance(0.3) ? undefined : String(rng.int(1000, 1020))
          else patch[field] = rng.chance(0.2) ? undefined : rng.int(rng.chance(0.05) ? -3 : 0, 20)
        }
        // ItemPatch spells "remove this field" as undefined, which exactOptionalPropertyTypes cannot express.
        this.attempt(r, kind, `${item} ${JSON.stringify(patch)}`, () => r.inv.updateItem(item, patch as ItemPatch))
        return
      }
      case 'archive':
        if (item) this.attempt(r, kind, item, () => r.inv.archiveItem(item))
        return
      case 'unarchive':
        if (item) this.attempt(r, kind, item, () => r.inv.unarchiveItem(item))
        return
      case 'updateLocation':
        if (!location) return
        if (rng.chance(0.3)) this.attempt(r, 'archiveLocation', location, () => r.inv.archiveLocation(location))
        else this.attempt(r, kind, location, () => r.inv.updateLocation(location, { name: `Bay ${rng.int(1, 99)}` }))
        return
      case 'receive':
      case 'pick': {
        if (!item || !location) return
        const quantity = rng.chance(0.03) ? 0 : rng.int(1, 20)
        const m = this.attempt(r, kind, `${item}@${location} ${quantity}`, () =>
          kind === 'receive' ? r.inv.receive({ item, location, quantity }) : r.inv.pick({ item, location, quantity }),
        )
        this.remember(r, m && [m])
        return
      }
      case 'adjust': {
        if (!item || !location) return
        const delta = rng.chance(0.05) ? 0 : rng.chance(0.5) ? rng.int(1, 10) : -rng.int(1, 10)
        const reason = rng.pick(REASONS)
        const m = this.attempt(r, kind, `${item}@${location} ${delta} ${reason}`, () => r.inv.adjust({ item, location, delta, reason }))
        this.remember(r, m && [m])
        return
      }
      case 'count': {
        if (!item || !location) return
        const counted = rng.chance(0.03) ? -1 : rng.int(0, 30)
        const m = this.attempt(r, kind, `${item}@${location} counted ${counted}`, () => r.inv.count({ item, location, counted }))
        this.remember(r, m && [m])
        return
      }
      case 'concurrentCount':
        this.concurrentCount()
        return
      case 'transfer': {
        if (!item || !location) return
        // Mostly another location this replica knows; now and then the same one (refused).
        const others = [...r.inv.locations.keys()].filter((l) => l !== location)
        const to = others.length > 0 && rng.chance(0.95) ? rng.pick(others) : location
        const quantity = rng.int(1, 10)
        const legs = this.attempt(r, kind, `${item} ${location}→${to} ${quantity}`, () => r.inv.transfer({ item, from: location, to, quantity }))
        this.remember(r, legs)
        return
      }
      case 'undo': {
        const mine = [...this.model.values()].filter((x) => x.replica === r.n)
        if (mine.length === 0) return
        // Mostly recent movements; now and then an old one (perhaps folded away already, or undone).
        const target = rng.chance(0.7) ? (mine[mine.length - 1 - rng.int(0, Math.min(4, mine.length - 1))] as (typeof mine)[number]) : rng.pick(mine)
        const undos = this.attempt(r, kind, target.m.id, () => r.inv.undo(target.m.id, rng.chance(0.5) ? 'mistake' : undefined))
        this.remember(r, undos)
        return
      }
    }
  }

  /** Several replicas count the same item at the same location before any of them syncs. */
  private concurrentCount(): void {
    const rng = this.rng
    if (this.itemIds.length === 0 || this.locationIds.length === 0) return
    const item = rng.pick(this.itemIds)
    const location = rng.pick(this.locationIds)
    const counters = this.replicas.filter((r) => r.inv.items.has(item) && r.inv.locations.has(location))
    if (counters.length < 2) return
    const chosen = rng.shuffle(counters).slice(0, rng.int(2, Math.min(4, counters.length)))
    // Often they count the same number, as two people counting one shelf would.
    const shared = rng.int(0, 30)
    for (const r of chosen) {
      const counted = rng.chance(0.6) ? shared : rng.int(0, 30)
      const m = this.attempt(r, 'count', `${item}@${location} counted ${counted} (concurrent)`, () => r.inv.count({ item, location, counted }))
      this.remember(r, m && [m])
    }
    this.stats.concurrentCounts++
  }

  // ---- the network ------------------------------------------------------------------------------

  private apply(to: Replica, from: Replica, update: Uint8Array): void {
    Y.applyUpdate(to.doc, update, { source: 'connection', connectionId: `r${from.n}` } satisfies Origin)
    this.stats.deliveries++
    if (to.doc.store.pendingStructs !== null || to.doc.store.pendingDs !== null) this.stats.pendingSeen++
  }

  /** A shuffled choice of one replica's recorded updates goes to another in the same partition, some twice. */
  private deliverSome(): void {
    const rng = this.rng
    const to = rng.pick(this.replicas)
    const peers = this.replicas.filter((r) => r !== to && r.group === to.group)
    if (peers.length === 0) return
    const from = rng.pick(peers)
    const done = this.delivered[to.n]?.[from.n] as Set<number>
    const fresh: number[] = []
    for (let i = 0; i < from.all.length; i++) if (!done.has(i)) fresh.push(i)
    const batch = rng.shuffle(fresh).slice(0, rng.chance(0.3) ? fresh.length : rng.int(1, 6))
    for (const i of batch) done.add(i)
    const again = done.size > 0 && rng.chance(0.3) ? [rng.pick([...done])] : []
    if (again.length > 0) this.stats.duplicates++
    const order = rng.shuffle([...batch, ...again])
    this.note(`deliver r${from.n}→r${to.n}: [${order.join(',')}] of ${from.all.length}`)
    for (const i of order) this.apply(to, from, from.all[i] as Uint8Array)
  }

  private partition(): void {
    const rng = this.rng
    this.stats.partitions++
    const kind = rng.weighted([[4, 'offline'], [3, 'online'], [2, 'split'], [1, 'heal']] as const)
    const devices = this.replicas.slice(1)
    if (kind === 'offline') {
      const r = rng.pick(devices)
      r.group = -1 - r.n
    } else if (kind === 'online') {
      const r = rng.pick(devices)
      r.group = ONLINE
    } else if (kind === 'split') {
      for (const r of devices) r.group = rng.chance(0.3) ? -1 - r.n : rng.int(0, 1)
    } else {
      for (const r of devices) r.group = ONLINE
    }
    this.note(`partition ${kind}: ${this.replicas.map((r) => r.group).join(' ')}`)
  }

  /** The server compacts: [LEDGER-8] no on-hand changes, and what it folds is remembered. */
  private fold(): void {
    const server = this.server
    const before = this.clock - this.rng.int(0, 500)
    const onHandBefore = this.onHandTable(server)
    const result = foldLedger(server.doc, before, COMPACTION)
    this.stats.folds++
    this.stats.foldedMovements += result.folded.length
    this.note(`fold before ${before}: ${result.folded.length} movements`)
    for (const m of result.folded) {
      this.folded.set(m.id, (this.folded.get(m.id) ?? 0) + 1)
      const key = baselineKey(m.item, m.location)
      this.foldedSums.set(key, (this.foldedSums.get(key) ?? 0) + m.delta)
    }
    const onHandAfter = this.onHandTable(server)
    if (onHandAfter !== onHandBefore) {
      throw new RuleBroken('LEDGER-8', `compaction changed on-hand on the server:\n before ${onHandBefore}\n after  ${onHandAfter}`)
    }
  }

  private onHandTable(r: Replica): string {
    const keys = new Set<string>()
    for (const { m } of this.model.values()) keys.add(baselineKey(m.item, m.location))
    return [...keys].sort().map((k) => {
      const [item, location] = k.split('@') as [string, string]
      return `${k}=${r.inv.onHand(item, location)}`
    }).join(' ')
  }

  private known() {
    return {
      items: this.itemIds,
      skus: SKUS,
      movementIds: [...this.model.keys()],
    }
  }

  /** A replica's incremental index agrees with one built from scratch, even mid-schedule (pending updates and all). */
  private midCheck(): void {
    const r = this.rng.pick(this.replicas)
    this.stats.midChecks++
    const problems = indexProblems(r.doc, r.inv.index, this.known())
    if (problems.length > 0) throw new RuleBroken('LEDGER-1', `replica r${r.n}'s index differs from a fresh one mid-schedule:\n  ${problems.join('\n  ')}`)
  }

  // ---- the end ----------------------------------------------------------------------------------

  /** Everyone back online; every replica's own updates go to every other, shuffled, some twice. */
  private finalExchange(): void {
    const rng = this.rng
    for (const r of this.replicas) r.group = ONLINE
    const deliveries: Array<[Replica, Replica, Uint8Array]> = []
    for (const from of this.replicas) {
      for (const to of this.replicas) {
        if (to === from) continue
        for (const u of from.own) {
          deliveries.push([to, from, u])
          if (rng.chance(0.05)) deliveries.push([to, from, u])
        }
      }
    }
    // A few relayed copies (updates a replica integrated from others and re-emitted) as well.
    for (let i = 0; i < 4; i++) {
      const from = rng.pick(this.replicas)
      const to = rng.pick(this.replicas.filter((r) => r !== from))
      if (from.all.length > 0) deliveries.push([to, from, rng.pick(from.all)])
    }
    this.note(`final exchange: ${deliveries.length} deliveries`)
    for (const [to, from, u] of rng.shuffle(deliveries)) this.apply(to, from, u)
  }

  private checkAll(): void {
    const replicas = this.replicas
    const server = this.server

    // [CONV-1] identical state everywhere.
    const sv = Y.encodeStateVector(server.doc)
    const serverState = documentState(server.doc)
    const state = JSON.stringify(serverState)
    for (const r of replicas) {
      if (r.doc.store.pendingStructs !== null || r.doc.store.pendingDs !== null) {
        throw new RuleBroken('CONV-1', `replica r${r.n} still has pending updates after the full exchange`)
      }
      if (!equalBytes(Y.encodeStateVector(r.doc), sv)) throw new RuleBroken('CONV-1', `replica r${r.n}'s state vector differs from the server's`)
      const mine = documentState(r.doc)
      if (JSON.stringify(mine) !== state) throw new RuleBroken('CONV-1', `replica r${r.n}'s state differs from the server's:\n  ${stateDiff(mine, serverState, `r${r.n}`, 'r0')}`)
    }

    // [LEDGER-2] / [LEDGER-3] every movement once, in the ledger or folded.
    const ledger = server.doc.getArray<Movement>(ROOT.movements).toArray()
    const seen = new Map<string, number>(this.folded)
    for (const m of ledger) seen.set(m.id, (seen.get(m.id) ?? 0) + 1)
    for (const id of this.model.keys()) {
      const n = seen.get(id) ?? 0
      if (n === 0) throw new RuleBroken('LEDGER-2', `movement ${id} is lost: neither in the ledger nor folded`)
      if (n > 1) throw new RuleBroken('LEDGER-3', `movement ${id} appears ${n} times (ledger and folds)`)
    }
    for (const id of seen.keys()) if (!this.model.has(id)) throw new RuleBroken('LEDGER-3', `movement ${id} appears but no replica made it`)

    // [LEDGER-1] on-hand = baseline + Σ deltas = Σ of every delta the model knows.
    const expected = new Map<string, number>()
    const perItem = new Map<string, number>()
    for (const { m } of this.model.values()) {
      const key = baselineKey(m.item, m.location)
      expected.set(key, (expected.get(key) ?? 0) + m.delta)
      perItem.set(m.item, (perItem.get(m.item) ?? 0) + m.delta)
    }
    const derived = new Map<string, number>()
    for (const [key, value] of server.doc.getMap<number>(ROOT.baselines)) derived.set(key, value)
    for (const m of ledger) {
      const key = baselineKey(m.item, m.location)
      derived.set(key, (derived.get(key) ?? 0) + m.delta)
    }
    for (const key of new Set([...expected.keys(), ...derived.keys()])) {
      if ((derived.get(key) ?? 0) !== (expected.get(key) ?? 0)) {
        throw new RuleBroken('LEDGER-1', `${key}: baseline + Σ ledger deltas = ${derived.get(key) ?? 0}, Σ of every movement made = ${expected.get(key) ?? 0}`)
      }
      const [item, location] = key.split('@') as [string, string]
      for (const r of replicas) {
        const onHand = r.inv.onHand(item, location)
        if (onHand !== (expected.get(key) ?? 0)) throw new RuleBroken('LEDGER-1', `r${r.n} shows on-hand ${onHand} for ${key}; the movements made sum to ${expected.get(key) ?? 0}`)
      }
    }
    for (const item of this.itemIds) {
      for (const r of replicas) {
        if (r.inv.onHand(item) !== (perItem.get(item) ?? 0)) throw new RuleBroken('LEDGER-1', `r${r.n} shows on-hand ${r.inv.onHand(item)} for item ${item}; the movements made sum to ${perItem.get(item) ?? 0}`)
      }
    }

    // [LEDGER-8] each baseline is exactly the sum of what compaction folded into it.
    const baselines = server.doc.getMap<number>(ROOT.baselines)
    for (const key of new Set([...baselines.keys(), ...this.foldedSums.keys()])) {
      if ((baselines.get(key) ?? 0) !== (this.foldedSums.get(key) ?? 0)) {
        throw new RuleBroken('LEDGER-8', `baseline ${key} is ${baselines.get(key)}, but the folded movements sum to ${this.foldedSums.get(key) ?? 0}`)
      }
    }

    // The incremental index of every replica equals one built from scratch.
    for (const r of replicas) {
      const problems = indexProblems(r.doc, r.inv.index, this.known())
      if (problems.length > 0) throw new RuleBroken('LEDGER-1', `replica r${r.n}'s index differs from a fresh one:\n  ${problems.join('\n  ')}`)
    }
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
