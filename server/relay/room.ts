/**
 * One tenant document in memory and the connections that share it. Every change runs through one
 * serial queue: integrate, judge, compensate, stage. What the queue accepted is stored in batches
 * (group commit: one append, one fsync, for everything accepted meanwhile), and only then relayed
 * and acknowledged. Nothing reaches another device before it is durable, and nothing invalid
 * reaches it at all.
 */
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { GuardedInbox, TooManyHeldUpdates } from '../../sync/guard.js'
import { LedgerIndex } from '../../sync/ledger-index.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor, Origin, Role } from '../../sync/origin.js'
import { MESSAGE, encodeDurable, encodeRejected } from '../../sync/protocol.js'
import type { RejectedChange } from '../../sync/protocol.js'
import type { Violation } from '../../sync/rules.js'
import { ROOT, SCHEMA_VERSION } from '../../sync/schema.js'
import type { DocumentSession, ServerReason } from '../documents/host.js'
import type { Fanout, FanoutSubscription } from '../scale/fanout.js'
import type { StoredDocument } from '../storage/types.js'
import type { Connection } from './connection.js'
import { stampPresence } from './presence.js'
import type { RelayMetrics } from './metrics.js'
import { SerialQueue } from './queue.js'
import { SERVER_USER_ID } from './types.js'
import type { RelayHooks, RelayLimits } from './types.js'

/** Pending (not yet integrable) content larger than this is dropped; its sender resends on reconnect. */
const MAX_PENDING_BYTES = 1024 * 1024

/**
 * Presence is broadcast in batches: a change (a state added, changed or removed) within this many
 * ms, a renewal (same state, new clock: every device sends one each 15 s) within PRESENCE_RENEWAL_MS.
 * Stock relays echo every renewal to every device at once; with 200 devices that is most of what
 * the server sends, and document updates wait behind it (bench/RESULTS.md, presence).
 */
export const PRESENCE_CHANGE_MS = 100
/** Remote states expire after 30 s without a renewal in y-protocols; one second late is harmless. */
export const PRESENCE_RENEWAL_MS = 1000

/** Awareness origin of presence that came from another instance (not published again). */
const PEER = Symbol('peer')

/** What every room of a relay shares. */
export interface RoomContext {
  readonly hooks: RelayHooks
  readonly limits: RelayLimits
  readonly metrics: RelayMetrics
  readonly fanout: Fanout
}

/** A change accepted but not yet stored (with what to tell its sender), or a connection waiting for `durable`. */
interface Staged {
  readonly update: Uint8Array | null
  readonly touched: ReadonlySet<string> | null
  readonly from: Connection
  /** What was undone of the sender's update: it gets the update back (with the compensation) and `rejected`. */
  readonly rejected: readonly RejectedChange[] | null
}

interface Captured<T> {
  readonly result: T
  readonly update: Uint8Array | null
  readonly touched: Set<string>
}

export class RoomClosed extends Error {
  override readonly name = 'RoomClosed'
}

const syncUpdateMessage = (update: Uint8Array): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.sync)
  syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

export class Room {
  readonly doc = new Y.Doc()
  readonly index: LedgerIndex
  readonly awareness: awarenessProtocol.Awareness
  readonly connections = new Set<Connection>()
  /** Awareness client ids changed or renewed since the last presence broadcast, and when it is due. */
  private presencePending = new Set<number>()
  private presenceChanged = false
  private presenceTimer: NodeJS.Timeout | null = null
  private presenceDue = Infinity
  /** Awareness client id → the connection that speaks for it. */
  private readonly presenceOwners = new Map<number, Connection>()
  readonly queue = new SerialQueue()
  /** Yjs client id → owning user id (SERVER_USER_ID for the server's own). */
  private readonly owners = new Map<number, string>()
  private readonly roles = new Map<string, Role>()
  /** Bytes in the store, and bytes accepted but not yet stored (both count against the size limit). */
  private storedBytes = 0
  /** Bytes of the compacted state in the store (the rest of storedBytes is the update log). */
  private stateBytes = 0
  /** The store's last sequence number as this room knows it, and whether only this room appended since the load. */
  private lastSeq = 0
  private onlyWriter = true
  private unstoredBytes = 0
  /** Accepted since the last flush, in order. */
  private staged: Staged[] = []
  private flushScheduled = false
  /** The store under way (it takes up whatever is staged meanwhile); never rejects. */
  private storing: Promise<void> | null = null
  private appendsSinceCompaction = 0
  private closed = false
  idleTimer: NodeJS.Timeout | null = null

  private readonly hooks: RelayHooks
  private readonly limits: RelayLimits
  private readonly metrics: RelayMetrics
  private readonly fanout: Fanout
  private subscription: FanoutSubscription | null = null
  /** Peer messages that arrived while the room was loading, applied once it has loaded. */
  private early: Array<() => void> | null = []

  private constructor(
    readonly tenant: string,
    context: RoomContext,
  ) {
    this.hooks = context.hooks
    this.limits = context.limits
    this.metrics = context.metrics
    this.fanout = context.fanout
    this.index = new LedgerIndex(this.doc)
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.awareness.setLocalState(null)
    this.awareness.on('change', this.onAwarenessChange)
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /**
   * Loads a tenant's document and claims a client id for the server's writes. With other
   * instances, it subscribes to their changes first and loads second: every update is stored
   * before it is published, so an update is either in what the load read or arrives after it.
   */
  static async load(tenant: string, context: RoomContext): Promise<Room> {
    const room = new Room(tenant, context)
    const { hooks } = context
    const subscription = context.fanout.subscribe(tenant, {
      update: (u) => room.fromPeer(() => void room.receivePeerUpdate(u)),
      awareness: (u) => room.fromPeer(() => awarenessProtocol.applyAwarenessUpdate(room.awareness, u, PEER)),
    })
    room.subscription = subscription
    let stored
    try {
      await subscription.ready
      stored = await hooks.load(tenant)
    } catch (err) {
      await subscription.unsubscribe().catch(() => undefined)
      throw err
    }
    room.applyStored(stored)
    room.stateBytes = stored.state?.length ?? 0
    room.storedBytes = room.stateBytes + stored.updates.reduce((n, u) => n + u.length, 0)
    room.appendsSinceCompaction = stored.updates.length
    room.lastSeq = stored.lastSeq
    // The server writes with a client id of its own, claimed so that nobody can forge it.
    for (;;) {
      const owner = await hooks.claimClientId(tenant, room.doc.clientID, SERVER_USER_ID)
      if (owner === SERVER_USER_ID) break
      room.doc.clientID = Math.floor(Math.random() * 0xffffffff) >>> 0
    }
    room.owners.set(room.doc.clientID, SERVER_USER_ID)
    if (room.doc.getMap(ROOT.meta).get('schemaVersion') !== SCHEMA_VERSION) {
      await room.serverChange('migration', (doc) => doc.getMap(ROOT.meta).set('schemaVersion', SCHEMA_VERSION))
    }
    const early = room.early ?? []
    room.early = null
    for (const apply of early) apply()
    return room
  }

  private applyStored(stored: StoredDocument): void {
    const origin: Origin = { source: 'storage' }
    Y.transact(this.doc, () => {
      if (stored.state) Y.applyUpdate(this.doc, stored.state, origin)
      for (const update of stored.updates) Y.applyUpdate(this.doc, update, origin)
    }, origin)
  }

  private fromPeer(apply: () => void): void {
    if (this.closed) return
    if (this.early) this.early.push(apply)
    else apply()
  }

  /**
   * An update another instance validated and stored: applied as it is (no rules: it passed them
   * there; not stored again), relayed to this instance's connections, and announced.
   */
  private receivePeerUpdate(update: Uint8Array): Promise<void> {
    return this.queue.run(() => {
      if (this.closed) return
      const { update: merged, touched } = this.capture(() => Y.applyUpdate(this.doc, update, { source: 'peer' } satisfies Origin))
      // Content that cannot integrate builds on a message this instance never got (pub/sub is at
      // most once): every later update of that device would wait behind it. The store has it all.
      if (this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null) this.scheduleCatchUp()
      if (merged === null) return
      this.broadcast(syncUpdateMessage(merged))
      this.announce(touched)
      this.releaseHeld()
    })
  }

  private catchUpTimer: NodeJS.Timeout | null = null

  /** One catch-up from the store soon, however many peer updates ask for it meanwhile. */
  private scheduleCatchUp(): void {
    if (this.catchUpTimer || this.closed) return
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null
      this.catchUp().catch((err: unknown) => console.error(`[relay] catch-up of ${this.tenant} failed`, err))
    }, 100)
    this.catchUpTimer.unref()
  }

  /**
   * After the link to other instances was down: whatever they published meanwhile was missed,
   * so read the store again and relay what is new.
   */
  catchUp(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return
      const stored = await this.hooks.load(this.tenant)
      const { update: merged, touched } = this.capture(() => this.applyStored(stored))
      if (merged === null) return
      this.broadcast(syncUpdateMessage(merged))
      this.announce(touched)
      this.releaseHeld()
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  // ---- connections ------------------------------------------------------------------------

  /** Greets a new connection: the server's state vector, everyone's presence. */
  join(conn: Connection): void {
    this.connections.add(conn)
    if (conn.session) this.roles.set(conn.session.userId, conn.session.role)
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MESSAGE.sync)
    syncProtocol.writeSyncStep1(e, this.doc)
    conn.send(encoding.toUint8Array(e))
    const states = this.awareness.getStates()
    if (states.size > 0) {
      const a = encoding.createEncoder()
      encoding.writeVarUint(a, MESSAGE.awareness)
      encoding.writeVarUint8Array(a, awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...states.keys()]))
      conn.send(encoding.toUint8Array(a))
    }
  }

  leave(conn: Connection): void {
    if (!this.connections.delete(conn)) return
    if (conn.awarenessIds.size > 0) {
      for (const id of conn.awarenessIds) this.presenceOwners.delete(id)
      awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.awarenessIds], null)
    }
  }

  private broadcast(data: Uint8Array, except?: Connection): void {
    for (const c of this.connections) if (c !== except) c.send(data)
  }

  /** Emitted before `update` when a state really changed (not for a renewal). */
  private readonly onAwarenessChange = (): void => {
    this.presenceChanged = true
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...added, ...updated, ...removed]
    if (origin !== PEER && this.fanout.shared) {
      const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)
      this.fanout.publishAwareness(this.tenant, update).catch((err: unknown) => console.error('[relay] presence fan-out failed', err))
    }
    for (const id of changed) this.presencePending.add(id)
    const due = Date.now() + (this.presenceChanged ? PRESENCE_CHANGE_MS : PRESENCE_RENEWAL_MS)
    this.presenceChanged = false
    if (due >= this.presenceDue) return
    if (this.presenceTimer) clearTimeout(this.presenceTimer)
    this.presenceDue = due
    this.presenceTimer = setTimeout(this.broadcastPresence, due - Date.now())
  }

  /** Every pending state (its latest) in one awareness message to every connection. */
  private readonly broadcastPresence = (): void => {
    this.presenceTimer = null
    this.presenceDue = Infinity
    if (this.closed || this.presencePending.size === 0) return
    const ids = [...this.presencePending]
    this.presencePending.clear()
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MESSAGE.awareness)
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids))
    this.broadcast(encoding.toUint8Array(e))
  }

  /**
   * Presence from a connection: each state is stamped with the authenticated user, and a
   * connection speaks only for awareness client ids no other connection has claimed.
   */
  applyAwareness(conn: Connection, update: Uint8Array): void {
    const session = conn.session
    if (!session) return
    const claim = (clientId: number) => {
      const owner = this.presenceOwners.get(clientId)
      if (owner === undefined) {
        this.presenceOwners.set(clientId, conn)
        conn.awarenessIds.add(clientId)
      }
      return owner === undefined || owner === conn
    }
    const stamped = stampPresence(update, session, claim, this.limits.maxAwarenessStateBytes)
    if (stamped) awarenessProtocol.applyAwarenessUpdate(this.awareness, stamped, conn)
  }


  queryAwareness(conn: Connection): void {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MESSAGE.awareness)
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]))
    conn.send(encoding.toUint8Array(e))
  }

  // ---- sync ------------------------------------------------------------------------------

  /** Sync step 1 from a client: send what it lacks, then `durable`. */
  answerStateVector(conn: Connection, stateVector: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      await this.flush() // only stored content leaves the server (see stage)
      if (this.closed) return
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MESSAGE.sync)
      syncProtocol.writeSyncStep2(e, this.doc, stateVector)
      conn.send(encoding.toUint8Array(e))
      conn.sendExt(encodeDurable(Y.encodeStateVector(this.doc)))
    })
  }

  private actorOf(conn: Connection): (client: number | null) => Actor {
    return (client) => {
      if (client === null) return conn.actor
      const owner = this.owners.get(client)
      if (owner === SERVER_USER_ID) return SERVER_ACTOR
      if (owner === undefined || owner === conn.session?.userId) return conn.actor
      // Content of another user completing now (it waited for something it depended on).
      return { kind: 'user', userId: owner, role: this.roles.get(owner) ?? 'viewer' }
    }
  }

  /** Sync step 2 or an update from a client. */
  receiveUpdate(conn: Connection, update: Uint8Array): Promise<void> {
    return this.queue.run(() => this.integrate(conn, update))
  }

  private refuse(conn: Connection, rejected: RejectedChange[]): void {
    this.metrics.updatesRefused++
    conn.sendExt(encodeRejected(rejected))
  }

  /** An update that decoded but that Yjs could not apply. */
  private refuseUnapplicable(conn: Connection, err: unknown): void {
    this.metrics.protocolErrors++
    this.refuse(conn, [{ code: 'malformed-update', message: `the update could not be applied: ${(err as Error).message}`, path: '' }])
  }

  private async integrate(conn: Connection, update: Uint8Array): Promise<void> {
    if (this.closed || !conn.isOpen || !conn.session) return
    const session = conn.session
    let meta: { from: Map<number, number>; to: Map<number, number> }
    try {
      meta = Y.parseUpdateMeta(update)
    } catch {
      this.metrics.protocolErrors++
      return this.refuse(conn, [{ code: 'malformed-update', message: 'the update could not be decoded', path: '' }])
    }
    if (this.storedBytes + this.unstoredBytes + update.length > this.limits.maxDocumentBytes) {
      this.refuse(conn, [{ code: 'document-too-large', message: `the document would exceed ${this.limits.maxDocumentBytes} bytes`, path: '' }])
      conn.close('documentTooLarge')
      return
    }
    // A Yjs client id belongs to the first user who writes with it.
    for (const [client, to] of meta.to) {
      if (to <= Y.getState(this.doc.store, client)) continue // nothing new from this client id
      let owner = this.owners.get(client)
      if (owner === undefined) {
        owner = await this.hooks.claimClientId(this.tenant, client, session.userId)
        this.owners.set(client, owner)
      }
      if (owner !== session.userId) {
        return this.refuse(conn, [{
          code: 'client-id-owned',
          message: `Yjs client id ${client} belongs to another user; the update was refused`,
          path: '',
        }])
      }
    }
    let step: Captured<Violation[]>
    const inbox = (conn.inbox ??= new GuardedInbox(this.doc, this.index, { origin: conn.origin, actorOf: this.actorOf(conn) }))
    try {
      step = this.capture(() => inbox.accept(update))
    } catch (err) {
      if (err instanceof TooManyHeldUpdates) {
        conn.close('badRequest', 'updates wait for content that never arrived')
        return
      }
      this.refuseUnapplicable(conn, err)
      return
    }
    this.dropOversizedPending()
    if (step.update === null) {
      this.stage({ update: null, touched: null, from: conn, rejected: null })
      return
    }
    this.stageAccepted(conn, step.result, step.update, step.touched)
    this.releaseHeld()
  }

  /** Stages what a connection's update changed, with the violations to tell its sender. */
  private stageAccepted(conn: Connection, violations: readonly Violation[], update: Uint8Array, touched: Set<string>): void {
    this.metrics.updatesAccepted++
    if (violations.length > 0) {
      this.metrics.updatesRejected++
      this.metrics.violations += violations.length
    }
    const rejected = violations.length > 0 ? violations.map(({ code, message, path }) => ({ code, message, path })) : null
    this.stage({ update, touched, from: conn, rejected })
  }

  /**
   * [VAL-20] The document gained content (from a connection, another instance or the store): what
   * connections hold in their inboxes may apply now, judged as their senders' and staged like any
   * of their updates, rather than waiting for each sender's next message. Each released update is
   * captured and staged on its own, so one that Yjs cannot apply costs only itself. Repeats while
   * anything applies, since what one releases may be what another waits for.
   */
  private releaseHeld(): void {
    for (let progress = true; progress; ) {
      progress = false
      for (const conn of this.connections) {
        const inbox = conn.inbox
        if (!inbox || !conn.isOpen || !conn.session) continue
        while (inbox.heldCount > 0) {
          let step: Captured<Violation[] | null>
          try {
            step = this.capture(() => inbox.releaseNext())
          } catch (err) {
            this.refuseUnapplicable(conn, err)
            continue
          }
          if (step.result === null) break
          this.dropOversizedPending()
          if (step.update === null) continue
          this.stageAccepted(conn, step.result, step.update, step.touched)
          progress = true
        }
      }
    }
  }

  /**
   * Queues an accepted change for the store, or a connection for `durable`, and makes sure a flush
   * follows. The flush runs after the I/O already read has been handled, so a burst of updates
   * becomes one append; while an append is under way, the next batch gathers behind it.
   *
   * Relaying waits for the store, although devices would converge without that: a device that
   * received a change the server then lost would send it back later under its author's client id,
   * and ownership of client ids ([VAL-16]) would refuse it, with the rest of that device's sync.
   */
  private stage(entry: Staged): void {
    this.staged.push(entry)
    if (entry.update) this.unstoredBytes += entry.update.length
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      void this.flush()
    })
  }

  /** Stores what is staged, unless a store is under way (it takes this up next). Resolves when nothing staged by now is left unstored, or the room failed. */
  private flush(): Promise<void> {
    this.storing ??= this.storeStaged().finally(() => {
      this.storing = null
    })
    return this.storing
  }

  /**
   * Stores everything staged as one append, then relays it, announces it and tells each waiting
   * connection `durable`; again while more was staged meanwhile.
   */
  private async storeStaged(): Promise<void> {
    while (this.staged.length > 0 && !this.closed) {
      const batch = this.staged.splice(0)
      // Everything integrated so far is in this batch or stored before it (peer and catch-up
      // content was stored by whoever wrote it), so once this batch is stored, this vector is durable.
      const vector = Y.encodeStateVector(this.doc)
      const changes = batch.filter((b): b is Staged & { update: Uint8Array } => b.update !== null)
      if (changes.length > 0) {
        const bytes = changes.reduce((n, b) => n + b.update.length, 0)
        const single = changes.length === 1 ? changes[0] : undefined
        const merged = single ? single.update : Y.mergeUpdates(changes.map((b) => b.update))
        try {
          await this.persist(merged)
        } catch {
          return // the room has failed and closed its connections; their senders still hold it all
        } finally {
          this.unstoredBytes -= bytes
        }
        // One change goes to everyone but its sender; a batch goes to everyone as one message
        // (a sender gets its own content back, which Yjs ignores, and any compensation of it).
        this.broadcast(syncUpdateMessage(merged), single?.rejected ? undefined : single?.from)
        for (const b of changes) if (b.rejected) b.from.sendExt(encodeRejected([...b.rejected]))
        const touched = new Set<string>()
        for (const b of changes) b.touched?.forEach((i) => touched.add(i))
        this.announce(touched)
      }
      const durable = encodeDurable(vector)
      for (const conn of new Set(batch.map((b) => b.from))) if (conn.isOpen) conn.sendExt(durable)
      await this.maybeCompact()
    }
  }

  /** Runs `fn` and collects what it changed: the merged update and the items it touched. */
  private capture<T>(fn: () => T): Captured<T> {
    const emitted: Uint8Array[] = []
    const touched = new Set<string>()
    const onUpdate = (u: Uint8Array) => emitted.push(u)
    this.doc.on('update', onUpdate)
    const unsubscribe = this.index.subscribe((items) => items.forEach((i) => touched.add(i)))
    try {
      const result = fn()
      const update = emitted.length === 0 ? null : emitted.length === 1 ? (emitted[0] as Uint8Array) : Y.mergeUpdates(emitted)
      return { result, update, touched }
    } finally {
      this.doc.off('update', onUpdate)
      unsubscribe()
    }
  }

  /** Tells the derived duties (alerts) which items changed in a stored step. */
  private announce(changedItems: ReadonlySet<string>): void {
    if (changedItems.size === 0 || !this.hooks.changed) return
    try {
      this.hooks.changed({ tenant: this.tenant, doc: this.doc, index: this.index, changedItems })
    } catch (err) {
      console.error(`[relay] a change hook failed for ${this.tenant}`, err)
    }
  }

  private dropOversizedPending(): void {
    const pending = this.doc.store.pendingStructs
    if (pending && pending.update.length > MAX_PENDING_BYTES) this.doc.store.pendingStructs = null
  }

  /**
   * Stores one update. If the store fails, the room closes: what it held in memory but could not
   * store was never relayed or acknowledged, and every client still has its own unsaved changes.
   */
  private async persist(update: Uint8Array): Promise<void> {
    const started = performance.now()
    try {
      const seq = await this.hooks.store(this.tenant, update)
      if (seq !== this.lastSeq + 1) this.onlyWriter = false // another instance or tool appended too
      this.lastSeq = seq
    } catch (err) {
      this.metrics.storeFailures++
      this.fail(err)
      throw new RoomClosed(`storage failed for ${this.tenant}`, { cause: err })
    }
    this.metrics.storeLatency.observe((performance.now() - started) / 1000)
    this.storedBytes += update.length
    this.metrics.storeBatches++
    if (this.fanout.shared) {
      // Stored first, published second: an instance that misses this catches up from the store.
      this.fanout.publishUpdate(this.tenant, update).catch((err: unknown) => console.error(`[relay] fan-out of ${this.tenant} failed`, err))
    }
    this.appendsSinceCompaction++
  }

  /**
   * Compacts after `compactEveryUpdates` appends, once the log also holds an eighth of the state's
   * bytes: a compaction re-encodes the whole document (a quarter of a second at 100,000
   * movements), so its cost stays proportional to what was appended, not to the document.
   */
  private async maybeCompact(): Promise<void> {
    if (this.appendsSinceCompaction < this.limits.compactEveryUpdates) return
    if ((this.storedBytes - this.stateBytes) * 8 < this.stateBytes) return
    await this.compact()
  }

  /** Merges the update log into one state (never fatal: the log stays valid if this fails). */
  async compact(): Promise<void> {
    if (this.appendsSinceCompaction === 0) return
    try {
      let state: Uint8Array
      let throughSeq: number
      const store = this.doc.store
      if (this.onlyWriter && !this.fanout.shared && this.staged.length === 0 && store.pendingStructs === null && store.pendingDs === null) {
        // Nobody else appended since the load, nothing is staged and nothing waits to integrate
        // (encodeStateAsUpdate would write that out unjudged): the document in memory is exactly
        // what is stored through lastSeq.
        state = Y.encodeStateAsUpdate(this.doc)
        throughSeq = this.lastSeq
      } else {
        // From the store: with several instances, updates another one stored may not have
        // reached this one yet, and compaction must contain everything up to its seq.
        const stored = await this.hooks.load(this.tenant)
        const merged = new Y.Doc()
        Y.transact(merged, () => {
          if (stored.state) Y.applyUpdate(merged, stored.state)
          for (const u of stored.updates) Y.applyUpdate(merged, u)
        })
        state = Y.encodeStateAsUpdate(merged)
        merged.destroy()
        throughSeq = stored.lastSeq
      }
      await this.hooks.compact(this.tenant, state, throughSeq)
      this.storedBytes = state.length
      this.stateBytes = state.length
      this.appendsSinceCompaction = 0
    } catch (err) {
      this.metrics.storeFailures++
      console.error(`[relay] compaction of ${this.tenant} failed; the update log is kept`, err)
    }
  }

  /**
   * A change the server makes itself (import, restore, alerts): applied, stored, and relayed to
   * every connection, in the queue like any other change.
   */
  serverChange<T>(reason: ServerReason, fn: (doc: Y.Doc, index: LedgerIndex) => T): Promise<T> {
    return this.queue.run(() => this.applyServerChange(reason, fn))
  }

  /**
   * Runs a server duty with the document to itself: snapshots, restore. Inside, `change` makes
   * server changes at once (the duty already holds the queue).
   */
  exclusive<T>(fn: (session: DocumentSession) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      await this.flush() // the duty sees what is stored
      if (this.closed) throw new RoomClosed(`${this.tenant} is closed`)
      return fn({ doc: this.doc, index: this.index, change: (reason, f) => this.applyServerChange(reason, f) })
    })
  }

  private async applyServerChange<T>(reason: ServerReason, fn: (doc: Y.Doc, index: LedgerIndex) => T): Promise<T> {
    await this.flush() // stored in order, and the `durable` below covers what came before
    if (this.closed) throw new RoomClosed(`${this.tenant} is closed`)
    const { result, update, touched } = this.capture(() =>
      Y.transact(this.doc, () => fn(this.doc, this.index), { source: 'server', reason } satisfies Origin),
    )
    if (update !== null) {
      await this.claimForServer(update)
      await this.persist(update)
      this.announce(touched)
      this.broadcast(syncUpdateMessage(update))
      const durable = encodeDurable(Y.encodeStateVector(this.doc))
      for (const c of this.connections) c.sendExt(durable)
      await this.maybeCompact()
    }
    return result
  }


  /**
   * A server change made on a copy (an import) carries the copy's client id: the server claims it
   * before storing, so that no user can later write under it. A failed claim fails like a store.
   */
  private async claimForServer(update: Uint8Array): Promise<void> {
    try {
      for (const client of Y.parseUpdateMeta(update).to.keys()) {
        if (this.owners.has(client)) continue
        const owner = await this.hooks.claimClientId(this.tenant, client, SERVER_USER_ID)
        this.owners.set(client, owner)
        if (owner !== SERVER_USER_ID) console.error(`[relay] client id ${client} of a server change in ${this.tenant} is owned by ${owner}`)
      }
    } catch (err) {
      this.metrics.storeFailures++
      this.fail(err)
      throw new RoomClosed(`storage failed for ${this.tenant}`, { cause: err })
    }
  }

  /** Reads under the queue, so the document equals what is stored. */
  read<T>(fn: (doc: Y.Doc, index: LedgerIndex) => T): Promise<T> {
    return this.queue.run(() => {
      if (this.closed) throw new RoomClosed(`${this.tenant} is closed`)
      return fn(this.doc, this.index)
    })
  }

  private fail(err: unknown): void {
    console.error(`[relay] storage failed for ${this.tenant}; closing its connections`, err)
    this.closeAll('storageUnavailable')
  }

  private closeAll(name: Parameters<Connection['close']>[0]): void {
    this.closed = true
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer)
    void this.subscription?.unsubscribe().catch(() => undefined)
    if (this.idleTimer) clearTimeout(this.idleTimer)
    for (const c of this.connections) c.close(name)
    this.connections.clear()
    if (this.presenceTimer) clearTimeout(this.presenceTimer)
    this.awareness.off('change', this.onAwarenessChange)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.index.destroy()
    this.doc.destroy()
  }

  /** Finishes queued work, compacts, closes every connection with `name`, and frees memory. */
  async unload(name: Parameters<Connection['close']>[0] = 'serviceRestart'): Promise<void> {
    if (this.closed) return
    await this.queue.run(async () => {
      await this.flush()
      if (this.closed) return
      await this.compact()
      this.closeAll(name)
    })
  }
}
