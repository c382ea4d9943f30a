/**
 * One seeded validation schedule: a "server" document with a LedgerIndex applies, through
 * `applyGuarded`, updates from a client that mixes honest work with hostile writes (wrong field
 * types, unknown fields and roots, movements on missing items, another user's name in `by`,
 * deleted or rewritten ledger records, writes to baselines/alerts/meta, a viewer writing).
 *
 * After each applied update the server's whole document must be valid ([VAL-FUZZ]), what the
 * server itself wrote must be untouched, its incremental index must equal a fresh one, and the
 * client, once it has pulled the server's state, must hold exactly that state. An honest second
 * user, working concurrently, must never be refused.
 */
import * as Y from 'yjs'
import { GuardedInbox } from '../../sync/guard.js'
import { newId, seededRandom } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'
import { Inventory, InventoryError } from '../../sync/inventory.js'
import type { ItemPatch } from '../../sync/inventory.js'
import { LedgerIndex } from '../../sync/ledger-index.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor, Origin, Role } from '../../sync/origin.js'
import type { Violation } from '../../sync/rules.js'
import { ENTITY_FIELDS, MAX_QUANTITY, MAX_TIMESTAMP, ROOT, ROOT_NAMES, baselineKey } from '../../sync/schema.js'
import type { FieldSpec, Movement } from '../../sync/schema.js'
import { documentState, hasLiveContent, indexProblems, stateDiff, stateProblems } from './doc-state.js'
import { Rng, RuleBroken, clientIdFrom, replicaSeed } from './fuzz.js'

const MIGRATION: Origin = { source: 'server', reason: 'migration' }
const FROM_SERVER = 'pull-from-server'
const SKUS = ['BOLT-10', 'NUT-5', 'WASHER-8', 'SCREW-3', 'PIPE-20']
/**
 * Yjs refuses to write a record with an own `constructor` key (it dispatches on `c.constructor`),
 * but a hostile client need not use Yjs to make its bytes: records carry this placeholder of the same
 * length, and the bytes of every update sent are patched to say `constructor`.
 */
export const CRAFTED_KEY = 'CONSTRUCTOR'
export const craft = (update: Uint8Array): Uint8Array => {
  const from = new TextEncoder().encode(CRAFTED_KEY)
  const to = new TextEncoder().encode('constructor')
  const out = update.slice()
  for (let i = 0; i + from.length <= out.length; i++) {
    if (from.every((b, k) => out[i + k] === b)) out.set(to, i)
  }
  return out
}
/** Keys that are not fields but that every plain object answers to. */
const PROTOTYPE_KEYS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']

export interface ValidationStats {
  readonly acts: Record<string, number>
  readonly violations: Record<string, number>
  rounds: number
  eventDeliveries: number
  resends: number
  honestUpdates: number
}

export const newValidationStats = (): ValidationStats => ({
  acts: {},
  violations: {},
  rounds: 0,
  eventDeliveries: 0,
  resends: 0,
  honestUpdates: 0,
})

interface Peer {
  readonly userId: string
  readonly role: Role
  readonly doc: Y.Doc
  readonly inv: Inventory
  /** Updates of the peer's own transactions since it last sent. */
  events: Uint8Array[]
}

type AnyMap = Y.Map<unknown>

/** Yjs's list insert and map set work on any shared type; a hostile client may call them on the wrong one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const listInsert = (type: Y.AbstractType<any>, content: unknown[]): void => {
  ;(Y.Array.prototype.insert as (this: unknown, index: number, content: unknown[]) => void).call(type, 0, content)
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const mapSet = (type: Y.AbstractType<any>, key: string, value: unknown): void => {
  ;(Y.Map.prototype.set as (this: unknown, key: string, value: unknown) => void).call(type, key, value)
}

export class ValidationSchedule {
  readonly rng: Rng
  readonly trace: string[] = []
  private clock = 1_700_000_000_000
  private readonly server: Y.Doc
  private readonly index: LedgerIndex
  private readonly admin: Inventory
  private readonly client: Peer
  private readonly bob: Peer
  private readonly actors = new Map<number, Actor>()
  private readonly hostileRandom: RandomSource
  /** What the server itself wrote to baselines, alerts and meta; no client may change it. */
  private readonly serverRoots: string
  /** Movements the honest user made, which nothing may take away. */
  private readonly bobMovements = new Set<string>()
  private interfering = false
  private clientInSync = true
  private readonly keep = new Set<string>()

  constructor(
    readonly seed: number,
    private readonly stats: ValidationStats,
  ) {
    const rng = (this.rng = new Rng(seed))
    const idSeed = rng.seed32()
    const ids = new Set<number>()
    while (ids.size < 3) ids.add(clientIdFrom(rng))
    const [serverId, clientId, bobId] = [...ids] as [number, number, number]
    this.hostileRandom = seededRandom(replicaSeed(idSeed, 3))

    this.server = new Y.Doc({ guid: `tenant-${seed}` })
    this.server.clientID = serverId
    this.actors.set(serverId, SERVER_ACTOR)
    for (const root of ROOT_NAMES) if (root !== ROOT.movements) this.server.getMap(root)
    this.index = new LedgerIndex(this.server)
    this.admin = new Inventory(this.server, {
      userId: 'admin',
      index: this.index,
      now: () => this.clock,
      random: seededRandom(replicaSeed(idSeed, 0)),
      origin: MIGRATION,
    })
    this.setup()
    this.serverRoots = this.serverRootsJson()

    const role = rng.weighted([[5, 'editor'], [2, 'admin'], [3, 'viewer']] as const)
    this.client = this.peer('carol', role, clientId, seededRandom(replicaSeed(idSeed, 1)))
    this.bob = this.peer('bob', 'editor', bobId, seededRandom(replicaSeed(idSeed, 2)))
    this.note(`carol is ${role}`)
  }

  private note(line: string): void {
    this.trace.push(line)
    if (this.trace.length > 200) this.trace.splice(0, 100)
  }

  private peer(userId: string, role: Role, clientID: number, random: RandomSource): Peer {
    const doc = new Y.Doc({ guid: this.server.guid })
    doc.clientID = clientID
    this.actors.set(clientID, { kind: 'user', userId, role })
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.server), FROM_SERVER)
    const peer: Peer = { userId, role, doc, inv: new Inventory(doc, { userId, now: () => this.clock, random }), events: [] }
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== FROM_SERVER) peer.events.push(u)
    })
    return peer
  }

  private authorOf = (client: number): Actor => {
    const actor = this.actors.get(client)
    if (!actor) throw new Error(`a struct of unknown client id ${client} reached the document`)
    return actor
  }

  private setup(): void {
    const admin = this.admin
    const locations = Array.from({ length: this.rng.int(1, 3) }, (_, i) => admin.createLocation({ name: `Aisle ${i + 1}` }))
    const items = Array.from({ length: this.rng.int(1, 3) }, (_, i) =>
      admin.createItem({ sku: SKUS[i] as string, name: `Item ${i}`, unit: 'each', reorderPoint: this.rng.int(0, 5) }),
    )
    for (let i = 0, n = this.rng.int(2, 6); i < n; i++) {
      this.clock += 10
      const item = this.rng.pick(items)
      const location = this.rng.pick(locations)
      admin.receive({ item, location, quantity: this.rng.int(1, 20) })
      if (locations.length > 1 && this.rng.chance(0.3)) {
        admin.transfer({ item, from: location, to: locations.find((l) => l !== location) as string, quantity: 1 })
      }
    }
    this.server.transact(() => {
      this.server.getMap(ROOT.meta).set('schemaVersion', 1)
      this.server.getMap(ROOT.baselines).set(baselineKey(items[0] as string, locations[0] as string), 5)
      this.server.getMap(ROOT.alerts).set(`${items[0]}:low`, { item: items[0], kind: 'low', openedAt: this.clock })
    }, MIGRATION)
  }

  private serverRootsJson(): string {
    const s = documentState(this.server)
    return JSON.stringify([s.baselines, s.alerts, s.meta])
  }

  // ---- the connection ----------------------------------------------------------------------------

  private readonly inboxes = new Map<Peer, GuardedInbox>()

  /** As the relay does: one inbox per sender, so an update that arrives early waits for its predecessors. */
  private guard(from: Peer, update: Uint8Array): Violation[] {
    let inbox = this.inboxes.get(from)
    if (!inbox) {
      const actor: Actor = { kind: 'user', userId: from.userId, role: from.role }
      inbox = new GuardedInbox(this.server, this.index, {
        origin: { source: 'connection', connectionId: from.userId },
        actorOf: (client) => (client === null ? actor : this.authorOf(client)),
      })
      this.inboxes.set(from, inbox)
    }
    const violations = inbox.receive(craft(update))
    for (const v of violations) this.stats.violations[v.code] = (this.stats.violations[v.code] ?? 0) + 1
    return violations
  }

  /** Everything the peer has that the server lacks: as one diff, or its updates one by one out of order, some twice. */
  private send(from: Peer): Violation[] {
    const events = from.events
    from.events = []
    const violations: Violation[] = []
    if (events.length > 1 && this.rng.chance(0.4)) {
      // Any order, some twice: an update that arrives before its predecessors waits in the inbox.
      const order = this.rng.shuffle([...events, ...events.filter(() => this.rng.chance(0.2))])
      this.note(`${from.userId} sends ${events.length} updates one by one (${order.length} deliveries)`)
      for (const u of order) {
        violations.push(...this.guard(from, u))
        this.stats.eventDeliveries++
        this.checkServer(`after one update of ${from.userId}`)
      }
      if (this.inboxes.get(from)?.heldCount || this.server.store.pendingStructs !== null || this.server.store.pendingDs !== null) {
        throw new RuleBroken('VAL-FUZZ', 'the server still has pending updates after receiving all of them')
      }
    } else {
      violations.push(...this.guard(from, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(this.server))))
      this.checkServer(`after the update of ${from.userId}`)
    }
    this.note(`${from.userId}: ${violations.length} violations ${violations.map((v) => v.code).join(',')}`)
    return violations
  }

  /** The server's whole document is valid, what it wrote itself is untouched, and its index is exact. */
  private checkServer(when: string): void {
    const problems = stateProblems(this.server, { authorOf: this.authorOf, ledgerComplete: true })
    if (problems.length > 0) throw new RuleBroken('VAL-FUZZ', `the server's document is invalid ${when}:\n  ${problems.join('\n  ')}`)
    if (this.serverRootsJson() !== this.serverRoots) {
      throw new RuleBroken('VAL-FUZZ', `baselines, alerts or meta changed ${when}: ${this.serverRootsJson()} (was ${this.serverRoots})`)
    }
    const index = indexProblems(this.server, this.index, this.known())
    if (index.length > 0) throw new RuleBroken('VAL-FUZZ', `the server's index differs from a fresh one ${when}:\n  ${index.join('\n  ')}`)
  }

  private known() {
    return {
      items: [...this.server.getMap(ROOT.items).keys()],
      skus: SKUS,
      movementIds: [...this.bobMovements, ...this.keep],
    }
  }

  /** The peer pulls the server's state and must then hold exactly that state. */
  private converge(peer: Peer): void {
    Y.applyUpdate(peer.doc, Y.encodeStateAsUpdate(this.server, Y.encodeStateVector(peer.doc)), FROM_SERVER)
    const sv = (d: Y.Doc) => Y.encodeStateVector(d).join()
    if (sv(peer.doc) !== sv(this.server)) throw new RuleBroken('VAL-FUZZ', `${peer.userId}'s state vector differs from the server's after pulling`)
    const mine = documentState(peer.doc)
    const theirs = documentState(this.server)
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      throw new RuleBroken('VAL-FUZZ', `${peer.userId} did not converge to the server's state:\n  ${stateDiff(mine, theirs, peer.userId, 'server')}`)
    }
    for (const name of new Set([...peer.doc.share.keys(), ...this.server.share.keys()])) {
      if (ROOT_NAMES.has(name)) continue
      const a = peer.doc.share.get(name)
      const b = this.server.share.get(name)
      if ((a && hasLiveContent(a)) || (b && hasLiveContent(b))) throw new RuleBroken('VAL-FUZZ', `unknown root ${name} has content on ${a && hasLiveContent(a) ? peer.userId : 'the server'}`)
    }
    const index = indexProblems(peer.doc, peer.inv.index, this.known())
    if (index.length > 0) throw new RuleBroken('VAL-FUZZ', `${peer.userId}'s index differs from a fresh one:\n  ${index.join('\n  ')}`)
    peer.events = []
  }

  // ---- the schedule ------------------------------------------------------------------------------

  run(): void {
    this.checkServer('after setup')
    for (let round = 0, rounds = this.rng.int(3, 10); round < rounds; round++) {
      this.stats.rounds++
      this.clock += this.rng.int(1, 1000)
      if (this.rng.chance(0.5)) this.honestRound()
      this.hostileRound(round === rounds - 1)
      if (this.rng.chance(0.4)) this.converge(this.bob)
    }
    this.converge(this.bob)
    for (const peer of [this.client, this.bob]) {
      peer.inv.destroy()
      peer.doc.destroy()
    }
    this.index.destroy()
    this.server.destroy()
  }

  /** Bob, an editor working at the same time (not always up to date), is never refused. */
  private honestRound(): void {
    const bob = this.bob
    for (let i = 0, n = this.rng.int(1, 3); i < n; i++) this.validAct(bob, (m) => this.bobMovements.add(m.id))
    if (bob.events.length === 0) return
    this.stats.honestUpdates++
    const violations = this.send(bob)
    if (violations.length > 0) {
      throw new RuleBroken('VAL-FUZZ', `honest writes by bob were refused: ${violations.map((v) => `${v.code} ${v.message}`).join('; ')}`)
    }
    for (const id of this.bobMovements) {
      if (this.index.movementsWithId(id).length !== 1) throw new RuleBroken('VAL-FUZZ', `bob's movement ${id} is not in the server's ledger exactly once`)
    }
  }

  private hostileRound(last: boolean): void {
    const client = this.client
    // What carol made is judged against what she saw; a stale view (she did not pull) proves nothing.
    const inSync = this.clientInSync
    this.interfering = false
    this.keep.clear()
    const serverItems = new Set(this.server.getMap(ROOT.items).keys())
    const serverLocations = new Set(this.server.getMap(ROOT.locations).keys())
    const serverMovements = new Set(this.server.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id))
    const madeHere: Movement[] = []
    for (let i = 0, n = this.rng.int(1, 4); i < n; i++) {
      if (this.rng.chance(0.3)) this.validAct(client, (m) => madeHere.push(m))
      else this.hostileAct()
    }
    const before = { ...documentState(this.server), ledgerOrder: null }
    this.send(client)
    if (client.role === 'viewer') {
      const after = { ...documentState(this.server), ledgerOrder: null }
      if (JSON.stringify(after) !== JSON.stringify(before)) throw new RuleBroken('VAL-FUZZ', `a viewer changed the server's state:\n  ${stateDiff(before, after, 'before', 'after')}`)
    } else if (!this.interfering && inSync) {
      // Valid movements on items and locations the server knew survive whatever else came with them.
      const known = (m: Movement) => serverItems.has(m.item) && serverLocations.has(m.location)
      for (const m of madeHere) {
        // Both legs of a transfer, or neither: a leg to a location the server refused takes the other with it.
        if (!known(m) || (m.transfer !== undefined && !madeHere.every((o) => o.transfer !== m.transfer || known(o)))) continue
        // An undo of one of carol's own hostile records goes with it.
        if (m.undoes !== undefined && !serverMovements.has(m.undoes) && !this.keep.has(m.undoes)) continue
        if (this.index.movementsWithId(m.id).length !== 1) throw new RuleBroken('VAL-FUZZ', `carol's valid ${m.kind} ${m.id} was refused`)
        this.keep.add(m.id)
      }
    }
    // Mostly the client pulls (and must then hold the server's state); now and then it goes on
    // building on its own view, refused parts and all, as a client that ignores the server would.
    this.clientInSync = last || this.rng.chance(0.75)
    if (this.clientInSync) this.converge(client)
    else this.note('carol does not pull')
    if (this.rng.chance(0.3)) {
      // A client resends everything it has (it cannot know what arrived): nothing changes, nothing is refused.
      this.stats.resends++
      const sv = Y.encodeStateVector(this.server).join()
      const state = JSON.stringify(documentState(this.server))
      const violations = this.guard(client, Y.encodeStateAsUpdate(client.doc))
      if (violations.length > 0 || Y.encodeStateVector(this.server).join() !== sv || JSON.stringify(documentState(this.server)) !== state) {
        throw new RuleBroken('VAL-FUZZ', `a resent update changed the server or was refused: ${violations.map((v) => v.code).join(',')}`)
      }
    }
  }

  // ---- honest work -------------------------------------------------------------------------------

  private attempt<T>(who: Peer, what: string, fn: () => T): T | undefined {
    try {
      const out = fn()
      this.note(`${who.userId} ${what}`)
      return out
    } catch (e) {
      if (e instanceof InventoryError) {
        this.note(`${who.userId} ${what}: refused (${e.code})`)
        return undefined
      }
      throw e
    }
  }

  private liveKeys(doc: Y.Doc, root: string): string[] {
    const map = doc.getMap<unknown>(root)
    return [...map.keys()].filter((k) => map.get(k) instanceof Y.Map)
  }

  private validAct(peer: Peer, made: (m: Movement) => void): void {
    const rng = this.rng
    const inv = peer.inv
    const items = this.liveKeys(peer.doc, ROOT.items)
    const locations = this.liveKeys(peer.doc, ROOT.locations)
    if (items.length === 0 || locations.length === 0) return
    const item = rng.pick(items)
    const location = rng.pick(locations)
    const kind = rng.pick(['receive', 'pick', 'adjust', 'count', 'transfer', 'undo', 'createItem', 'createLocation', 'updateItem', 'archive'] as const)
    this.stats.acts[`valid:${kind}`] = (this.stats.acts[`valid:${kind}`] ?? 0) + 1
    const record = (ms: readonly Movement[] | undefined) => ms?.forEach(made)
    switch (kind) {
      case 'receive':
        record(this.attempt(peer, `receive ${item}@${location}`, () => [inv.receive({ item, location, quantity: rng.int(1, 9) })]))
        return
      case 'pick':
        record(this.attempt(peer, `pick ${item}@${location}`, () => [inv.pick({ item, location, quantity: rng.int(1, 9) })]))
        return
      case 'adjust':
        record(this.attempt(peer, `adjust ${item}@${location}`, () => [inv.adjust({ item, location, delta: rng.chance(0.5) ? 2 : -3, reason: 'damaged' })]))
        return
      case 'count':
        record(this.attempt(peer, `count ${item}@${location}`, () => [inv.count({ item, location, counted: rng.int(0, 20) })]))
        return
      case 'transfer': {
        const to = locations.find((l) => l !== location)
        if (to) record(this.attempt(peer, `transfer ${item} ${location}→${to}`, () => inv.transfer({ item, from: location, to, quantity: rng.int(1, 5) })))
        return
      }
      case 'undo': {
        const mine = peer.doc.getArray<Movement>(ROOT.movements).toArray().filter((m) => typeof m === 'object' && m !== null && m.by === peer.userId)
        if (mine.length > 0) {
          const target = rng.pick(mine)
          record(this.attempt(peer, `undo ${target.id}`, () => inv.undo(target.id)))
        }
        return
      }
      case 'createItem':
        this.attempt(peer, 'createItem', () => inv.createItem({ sku: `${peer.userId}-${rng.int(1, 1e6)}`, name: 'New part', reorderQty: rng.int(0, 9) }))
        return
      case 'createLocation':
        this.attempt(peer, 'createLocation', () => inv.createLocation({ name: `Bay ${rng.int(1, 99)}` }))
        return
      case 'updateItem': {
        const patch: Record<string, unknown> = rng.pick([{ name: `Part ${rng.int(1, 99)}` }, { reorderPoint: rng.int(0, 9) }, { unit: undefined }, { barcode: String(rng.int(1000, 9999)) }])
        // "Remove this field" is spelt undefined, which exactOptionalPropertyTypes cannot express.
        this.attempt(peer, `updateItem ${item} ${JSON.stringify(patch)}`, () => inv.updateItem(item, patch as ItemPatch))
        return
      }
      case 'archive':
        this.attempt(peer, `archive ${item}`, () => inv.archiveItem(item))
        return
    }
  }

  // ---- hostile work ------------------------------------------------------------------------------

  private hostileAct(): void {
    const rng = this.rng
    const act = rng.weighted([
      [4, 'wrong-type'],
      [3, 'unknown-field'],
      [2, 'nested-field'],
      [2, 'remove-field'],
      [2, 'delete-entity'],
      [1, 'replace-entity'],
      [3, 'new-entity'],
      [2, 'list-in-map'],
      [3, 'unknown-root'],
      [8, 'bad-movement'],
      [2, 'odd-record'],
      [2, 'bad-transfer'],
      [2, 'bad-undo'],
      [2, 'duplicate-movement'],
      [2, 'delete-records'],
      [2, 'change-record'],
      [1, 'ledger-key'],
      [3, 'server-roots'],
    ] as const)
    this.stats.acts[act] = (this.stats.acts[act] ?? 0) + 1
    // In one transaction, or in as many as it takes (then, sent one by one, the parts are judged apart).
    const what = rng.chance(0.6) ? this.client.doc.transact(() => this.hostile(act), null) : this.hostile(act)
    this.note(`carol (hostile) ${act}: ${what}`)
  }

  private entity(): { root: string; kind: 'item' | 'location'; id: string; map: AnyMap } | null {
    const kind = this.rng.chance(0.7) ? 'item' : 'location'
    const root = kind === 'item' ? ROOT.items : ROOT.locations
    const ids = this.liveKeys(this.client.doc, root)
    if (ids.length === 0) return null
    const id = this.rng.pick(ids)
    return { root, kind, id, map: this.client.doc.getMap<AnyMap>(root).get(id) as AnyMap }
  }

  private wrongValue(spec: FieldSpec): unknown {
    const rng = this.rng
    if (spec.type === 'string') {
      return rng.pick<unknown>([42, true, null, '', '   ', 'x'.repeat(spec.max + 1), ['a'], { a: 1 }, new Uint8Array([1, 2])])
    }
    if (spec.type === 'integer') {
      return rng.pick<unknown>(['5', 1.5, spec.min - 1, spec.max + 1, Number.NaN, null, true, 2 ** 60, { n: 1 }])
    }
    return rng.pick<unknown>(['yes', 1, 0, null, 'true'])
  }

  private template(): Record<string, unknown> {
    const items = this.liveKeys(this.client.doc, ROOT.items)
    const locations = this.liveKeys(this.client.doc, ROOT.locations)
    return {
      id: newId('mv', this.hostileRandom),
      item: items.length > 0 ? this.rng.pick(items) : 'it_none',
      location: locations.length > 0 ? this.rng.pick(locations) : 'loc_none',
      delta: this.rng.int(1, 9),
      kind: 'receive',
      by: this.client.userId,
      at: this.clock,
    }
  }

  private ledgerMovements(): Array<{ m: Movement; index: number }> {
    return this.client.doc
      .getArray<unknown>(ROOT.movements)
      .toArray()
      .map((m, index) => ({ m: m as Movement, index }))
      .filter(({ m }) => typeof m === 'object' && m !== null && !Array.isArray(m) && typeof m.id === 'string')
  }

  /** One hostile change on the client; returns what it did, for the trace. */
  private hostile(act: string): string {
    const rng = this.rng
    const doc = this.client.doc
    const movements = doc.getArray<unknown>(ROOT.movements)
    switch (act) {
      case 'wrong-type': {
        const e = this.entity()
        if (!e) return 'no entity'
        const specs = ENTITY_FIELDS[e.kind]
        const field = rng.pick(Object.keys(specs))
        const value = this.wrongValue(specs[field] as FieldSpec)
        e.map.set(field, value)
        return `${e.id}.${field} = ${String(value).slice(0, 20)}`
      }
      case 'unknown-field': {
        const e = this.entity()
        if (!e) return 'no entity'
        const key = rng.pick(['color', 'price', 'onHand', ...PROTOTYPE_KEYS])
        e.map.set(key, rng.pick<unknown>(['x', 3, true]))
        return `${e.id}.${key}`
      }
      case 'nested-field': {
        const e = this.entity()
        if (!e) return 'no entity'
        const field = rng.pick(['name', 'sku', 'archived', 'extra'])
        const nested = rng.pick([() => new Y.Text('text'), () => new Y.Map([['a', 1]]), () => new Y.Array<number>(), () => new Y.XmlText('x')])()
        e.map.set(field, nested)
        if (nested instanceof Y.Array) nested.push([1, 2])
        return `${e.id}.${field} = ${nested.constructor.name}`
      }
      case 'remove-field': {
        const e = this.entity()
        if (!e) return 'no entity'
        const fields = [...e.map.keys()]
        if (fields.length === 0) return 'no field'
        const field = rng.pick(fields)
        e.map.delete(field)
        return `${e.id}.${field} removed`
      }
      case 'delete-entity': {
        const e = this.entity()
        if (!e) return 'no entity'
        this.interfering = true
        doc.getMap(e.root).delete(e.id)
        if (rng.chance(0.3)) movements.push([{ ...this.template(), [e.kind]: e.id }])
        return `${e.root}/${e.id} removed`
      }
      case 'replace-entity': {
        const e = this.entity()
        if (!e) return 'no entity'
        this.interfering = true
        const fields: Array<[string, unknown]> = e.kind === 'item' ? [['sku', 'REPLACED'], ['name', 'Replaced']] : [['name', 'Replaced']]
        doc.getMap(e.root).set(e.id, new Y.Map(fields))
        return `${e.root}/${e.id} replaced`
      }
      case 'new-entity': {
        const kind = rng.chance(0.7) ? 'item' : 'location'
        const root = kind === 'item' ? ROOT.items : ROOT.locations
        const id = rng.chance(0.2) ? rng.pick(['bad id', '', 'x'.repeat(65), 'a@b', 'ü']) : newId(kind === 'item' ? 'it' : 'loc', this.hostileRandom)
        const good: Array<[string, unknown]> = kind === 'item' ? [['sku', `H-${rng.int(1, 99)}`], ['name', 'Hostile']] : [['name', 'Hostile']]
        const variant = rng.pick(['bad-id-only', 'missing', 'wrong-type', 'unknown-field', 'plain-object', 'string', 'array', 'nested-map'])
        let value: unknown
        if (variant === 'bad-id-only') value = new Y.Map(good)
        else if (variant === 'missing') value = new Y.Map(good.slice(1))
        else if (variant === 'wrong-type') value = new Y.Map([...good, ['name', 7], ['archived', 'no']])
        else if (variant === 'unknown-field') value = new Y.Map([...good, [rng.pick(['color', ...PROTOTYPE_KEYS]), rng.pick<unknown>(['x', 1, { a: 1 }, null])]])
        else if (variant === 'plain-object') value = Object.fromEntries(good)
        else if (variant === 'string') value = 'an item'
        else if (variant === 'array') value = new Y.Array()
        else value = new Y.Map<unknown>([...good, ['unit', new Y.Map([['a', 1]])]])
        doc.getMap(root).set(id, value)
        if (rng.chance(0.5)) movements.push([{ ...this.template(), [kind]: id }])
        return `${root}/${id} ${variant}`
      }
      case 'list-in-map': {
        const e = this.entity()
        const target = rng.pick(['items', 'locations', 'entity'] as const)
        if (target === 'entity') {
          if (!e) return 'no entity'
          listInsert(e.map, [rng.pick<unknown>([1, 'x', { a: 1 }])])
          return `list content in ${e.id}`
        }
        listInsert(doc.getMap(target), [rng.pick<unknown>([1, 'x', { sku: 'S', name: 'N' }])])
        return `list content in ${target}`
      }
      case 'unknown-root': {
        const where = rng.pick(['map', 'nested-map', 'array', 'text', 'xml'] as const)
        if (where === 'map') doc.getMap('evilMap').set(`k${rng.int(1, 9)}`, rng.pick<unknown>([1, 'x', { a: 1 }]))
        else if (where === 'nested-map') doc.getMap('evilMap').set('nested', new Y.Map([['a', 1]]))
        else if (where === 'array') doc.getArray('junkList').push([1, 'two', { three: 3 }])
        else if (where === 'text') doc.getText('notesText').insert(0, 'hello')
        else doc.getXmlFragment('xmlFragment').insert(0, [new Y.XmlText('x')])
        return where
      }
      case 'bad-movement': {
        const r = this.template()
        const defects = rng.int(1, 2)
        const done: string[] = []
        for (let i = 0; i < defects; i++) done.push(this.defect(r))
        movements.push([r])
        return `${done.join('+')}: ${JSON.stringify(r).slice(0, 160)}`
      }
      case 'odd-record': {
        const record = rng.pick<() => unknown>([
          () => 5,
          () => 'a movement',
          () => null,
          () => true,
          () => [1, 2],
          () => ({}),
          () => ({ ...this.template(), id: { nested: true } }),
          () => new Y.Map([['id', 'mv_aaaaaaaaaaaa']]),
          () => new Y.Array(),
          () => new Y.Text('t'),
          () => new Uint8Array([1, 2, 3]),
          () => new Y.Doc(),
        ])()
        if (rng.chance(0.5)) movements.push([record])
        else movements.insert(rng.int(0, movements.length), [record])
        return `record ${record?.constructor?.name ?? String(record)}`
      }
      case 'bad-transfer': {
        const out: Record<string, unknown> = { ...this.template(), kind: 'transfer-out', delta: -3, transfer: newId('tr', this.hostileRandom) }
        const locations = this.liveKeys(doc, ROOT.locations)
        const other = locations.find((l) => l !== out.location) ?? 'loc_none'
        const inn = { ...out, id: newId('mv', this.hostileRandom), kind: 'transfer-in', delta: 3, location: other }
        const variant = rng.pick(['one-leg', 'unequal', 'same-location', 'two-transactions', 'other-author'])
        if (variant === 'one-leg') movements.push([rng.chance(0.5) ? out : inn])
        else if (variant === 'unequal') movements.push([out, { ...inn, delta: 2 }])
        else if (variant === 'same-location') movements.push([out, { ...inn, location: out.location }])
        else if (variant === 'other-author') movements.push([out, { ...inn, by: 'bob' }])
        else {
          // Written in two transactions: apart, each leg is unpaired; one diff carries both (then they pair).
          doc.transact(() => movements.push([out]))
          doc.transact(() => movements.push([inn]))
        }
        return variant
      }
      case 'bad-undo': {
        this.interfering = true
        const all = this.ledgerMovements()
        if (all.length === 0) return 'empty ledger'
        const variant = rng.pick(['others', 'inexact', 'missing', 'twice'])
        const own = all.filter(({ m }) => m.by === this.client.userId && m.delta !== 0)
        const others = all.filter(({ m }) => m.by !== this.client.userId && m.delta !== 0)
        const undo = (target: Movement, delta: number) => ({
          ...this.template(),
          item: target.item,
          location: target.location,
          kind: 'undo',
          delta,
          undoes: target.id,
        })
        if (variant === 'others' && others.length > 0) {
          const t = rng.pick(others).m
          movements.push([undo(t, -t.delta)])
        } else if (variant === 'inexact' && own.length > 0) {
          const t = rng.pick(own).m
          movements.push([undo(t, -t.delta + 1 || 1)])
        } else if (variant === 'twice' && own.length > 0) {
          const t = rng.pick(own).m
          movements.push([undo(t, -t.delta), undo(t, -t.delta)])
        } else {
          movements.push([{ ...this.template(), kind: 'undo', delta: -1, undoes: newId('mv', this.hostileRandom) }])
        }
        return variant
      }
      case 'duplicate-movement': {
        this.interfering = true
        const all = this.ledgerMovements()
        if (all.length === 0) return 'empty ledger'
        const { m } = rng.pick(all)
        movements.insert(rng.int(0, movements.length), [rng.chance(0.5) ? { ...m } : { ...m, delta: m.delta + 1 }])
        return `copy of ${m.id}`
      }
      case 'delete-records': {
        this.interfering = true
        if (movements.length === 0) return 'empty ledger'
        const start = rng.int(0, movements.length - 1)
        const n = rng.int(1, Math.min(3, movements.length - start))
        movements.delete(start, n)
        return `deleted ${n} at ${start}`
      }
      case 'change-record': {
        // "Editing" an immutable record: delete it and write a changed copy with the same id.
        this.interfering = true
        const all = this.ledgerMovements()
        if (all.length === 0) return 'empty ledger'
        const { m, index } = rng.pick(all)
        movements.delete(index, 1)
        const changed: Record<string, unknown> = { ...m }
        const field = rng.pick(['delta', 'by', 'at', 'item'])
        if (field === 'delta') changed.delta = m.kind === 'count' ? m.delta : m.delta * 2
        else if (field === 'by') changed.by = this.client.userId
        else if (field === 'at') changed.at = m.at + 1
        else changed.note = 'changed'
        movements.insert(rng.int(0, movements.length), [changed])
        return `${m.id} ${field}`
      }
      case 'ledger-key': {
        mapSet(movements, rng.pick(['k', 'length', '0']), rng.pick<unknown>([1, { id: 'mv_aaaaaaaaaaaa' }]))
        return 'key on the ledger array'
      }
      case 'server-roots': {
        const baselines = doc.getMap<unknown>(ROOT.baselines)
        const alerts = doc.getMap<unknown>(ROOT.alerts)
        const meta = doc.getMap<unknown>(ROOT.meta)
        const variant = rng.pick(['baseline-set', 'baseline-delete', 'baseline-nested', 'alert-set', 'alert-delete', 'meta-set', 'meta-delete', 'list'])
        const key = baselines.keys().next().value
        if (variant === 'baseline-set') baselines.set(rng.chance(0.5) && key ? key : baselineKey('it_x', 'loc_y'), 999)
        else if (variant === 'baseline-delete' && key) baselines.delete(key)
        else if (variant === 'baseline-nested') baselines.set('it_x@loc_y', new Y.Map([['a', 1]]))
        else if (variant === 'alert-set') alerts.set('forged', { item: 'it_x', kind: 'out' })
        else if (variant === 'alert-delete') for (const k of [...alerts.keys()]) alerts.delete(k)
        else if (variant === 'meta-set') meta.set('schemaVersion', rng.pick([0, 2, 99]))
        else if (variant === 'meta-delete') meta.delete('schemaVersion')
        else listInsert(rng.pick([baselines, alerts, meta]), [1])
        return variant
      }
    }
    throw new Error(`unknown act ${act}`)
  }

  /** Makes one thing wrong with a movement record; returns what. */
  private defect(r: Record<string, unknown>): string {
    const rng = this.rng
    const defect = rng.pick([
      'missing-item', 'bad-item-id', 'missing-location', 'other-author', 'zero-delta', 'wrong-sign', 'float-delta',
      'string-delta', 'nan-delta', 'huge-delta', 'unknown-kind', 'server-kind', 'count-fields-missing', 'count-mismatch',
      'short-id', 'bad-id', 'extra-field', 'missing-field', 'bad-at', 'long-reason', 'null-note', 'foreign-field',
    ])
    switch (defect) {
      case 'missing-item': r.item = newId('it', this.hostileRandom); break
      case 'bad-item-id': r.item = rng.pick(['bad id', '', 'it@x']); break
      case 'missing-location': r.location = newId('loc', this.hostileRandom); break
      case 'other-author': r.by = rng.pick(['bob', 'admin', 'mallory', '']); break
      case 'zero-delta': r.delta = 0; break
      case 'wrong-sign': r.kind = 'pick'; break
      case 'float-delta': r.delta = 1.5; break
      case 'string-delta': r.delta = '5'; break
      case 'nan-delta': r.delta = Number.NaN; break
      case 'huge-delta': r.delta = MAX_QUANTITY + 1; break
      case 'unknown-kind': r.kind = rng.pick(['steal', 'RECEIVE', '', ...PROTOTYPE_KEYS.filter((k) => k !== '__proto__')]); break
      case 'server-kind': r.kind = 'restore'; r.reason = 'snapshot'; break
      case 'count-fields-missing': r.kind = 'count'; break
      case 'count-mismatch': r.kind = 'count'; r.counted = 5; r.expected = 3; r.delta = 7; break
      case 'short-id': r.id = 'mv_1'; break
      case 'bad-id': r.id = 'mv_bad id!!'; break
      case 'extra-field': r[rng.pick(['price', CRAFTED_KEY, 'valueOf', 'toString'])] = 1; break
      case 'missing-field': delete r[rng.pick(['id', 'item', 'location', 'delta', 'kind', 'by', 'at'])]; break
      case 'bad-at': r.at = rng.pick<unknown>([-1, 'now', MAX_TIMESTAMP + 1, 1.5]); break
      case 'long-reason': r.reason = rng.pick(['x'.repeat(201), '   ']); break
      case 'null-note': r.note = null; break
      case 'foreign-field': r[rng.pick(['undoes', 'transfer', 'counted', 'expected'])] = rng.pick<unknown>(['mv_aaaaaaaaaaaa', 3]); break
    }
    return defect
  }
}
