/**
 * One simulated device of the load generator: a WebSocket in one of the three dialects.
 *
 * - Every client timestamps each update it receives against the edit log (cheap: it reads the
 *   update's header) and keeps the bytes. It applies nothing while the run lasts: its state is built
 *   from what it received once the run is over, for the convergence check. This is what lets one
 *   core drive hundreds of devices.
 * - A writer also holds a Y.Doc with the catalogue and its own movements, answers the server's
 *   sync step 1 from it (so a reconnect sends what it made offline), and counts what the server
 *   acknowledged (Quartermaster: `durable`; Hocuspocus: SyncStatus; y-websocket: its own update
 *   broadcast back to it).
 * - With presence on, it keeps an awareness state renewed like y-protocols' Awareness does (a check
 *   every 3 s; renewal once 15 s have passed), and a writer updates it with every movement.
 * - With reconnect on, it reconnects after a close with y-websocket's backoff (100 ms · 2^failures,
 *   at most 2,500 ms, no jitter).
 */
import WS from 'ws'
import * as Y from 'yjs'
import type { RandomSource } from '../../sync/ids.js'
import type { EditLog, Receiver, WriterEdits } from './edits.js'
import { MovementMaker } from './movements.js'
import type { Catalogue } from './movements.js'
import { awarenessUpdate, updateRanges } from './wire.js'
import type { Dialect } from './wire.js'

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())
const LOCAL = Symbol('local edit')
const MAX_BACKOFF_MS = 2500
const AWARENESS_CHECK_MS = 3000
const AWARENESS_RENEW_MS = 15_000

export interface ClientOptions {
  readonly dialect: Dialect
  readonly port: number
  readonly tenant: string
  readonly token: string | null
  readonly log: EditLog
  /** Arrival tracking, or null (the late joiner). */
  readonly receiver: Receiver | null
  /** Keep the received updates (for the convergence check). @default true */
  readonly keep?: boolean
  readonly writer?: { readonly userId: string; readonly catalogue: Catalogue; readonly random: RandomSource; readonly edits: WriterEdits; readonly doc: Y.Doc }
  /** A document with content to push when the server asks (the seeding client). */
  readonly seedDoc?: Y.Doc
  readonly presence?: { readonly name: string; readonly random: RandomSource }
  readonly reconnect?: boolean
}

export class BenchClient {
  private ws: WS | null = null
  readonly received: Uint8Array[] = []
  private readonly receivedAt: number[] = []
  /** A writer's own updates with the time it made each: its state is rebuilt in time order. */
  private readonly sent: Array<{ readonly at: number; readonly update: Uint8Array }> = []
  private readonly initialState: Uint8Array | null
  readonly doc: Y.Doc | null
  private readonly maker: MovementMaker | null
  private readonly edits: WriterEdits | null
  /** Own clocks the server has acknowledged: everything below is stored (or at least applied). */
  ackedClock = 0
  /** Hocuspocus: the own clock each unacknowledged update frame carried, in send order. */
  private readonly ackQueue: number[] = []
  private syncedNow = false
  private waiters: Array<() => void> = []
  private failures = 0
  private closedByUs = false
  private wasOpen = false
  private reconnectTimer: NodeJS.Timeout | null = null
  /** Successful opens (the first connection included). */
  opens = 0
  closes = 0
  errors: string[] = []
  private awarenessClock = 0
  private awarenessId = 0
  private presenceState: Record<string, unknown> | null = null
  private presenceAt = 0
  private presenceTimer: NodeJS.Timeout | null = null
  private presencePhase: NodeJS.Timeout | null = null
  awarenessSent = 0
  /** Update frames (not sync step 2) received. */
  updatesReceived = 0
  /** Acknowledgements received (durable or SyncStatus). */
  acks = 0

  constructor(private readonly o: ClientOptions) {
    this.doc = o.writer?.doc ?? o.seedDoc ?? null
    this.edits = o.writer?.edits ?? null
    this.maker = o.writer ? new MovementMaker(o.writer.doc, o.writer.userId, o.writer.catalogue, o.writer.random) : null
    this.initialState = this.doc ? Y.encodeStateAsUpdate(this.doc) : null
    if (this.doc && this.edits) {
      const doc = this.doc
      const edits = this.edits
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== LOCAL) return
        const ranges = updateRanges(update, [])
        const own = ranges.find(([client]) => client === doc.clientID)
        if (!own) return
        // One clock per record: a transfer (two records) is one edit of two clocks.
        const now = performance.now()
        this.lastEdit = o.log.add(edits, own[1], own[2], own[2] - own[1], now)
        this.sent.push({ at: now, update })
        if (this.isReady) this.sendUpdate(update, own[2])
      })
    }
    if (o.presence) this.awarenessId = Math.floor(o.presence.random() * 0xffffffff) >>> 0
  }

  /** Index of the last edit in the log. */
  lastEdit = -1

  get isReady(): boolean {
    return this.syncedNow && this.ws !== null && this.ws.readyState === WS.OPEN
  }

  get isSynced(): boolean {
    return this.syncedNow
  }

  /** Own clock: everything this client wrote. */
  get clock(): number {
    return this.doc ? Y.getState(this.doc.store, this.doc.clientID) : 0
  }

  get unacked(): number {
    return this.clock - this.ackedClock
  }

  connect(): void {
    if (this.closedByUs) return
    const o = this.o
    const ws = new WS(o.dialect.url(o.port, o.tenant, o.token), { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
    ws.binaryType = 'nodebuffer'
    this.ws = ws
    this.syncedNow = false
    ws.on('open', () => {
      this.wasOpen = true
      this.opens++
      this.failures = 0
      for (const f of o.dialect.hello(o.tenant, o.token)) ws.send(f)
      if (!o.dialect.waitsForAuth) this.authenticated()
    })
    ws.on('message', (data: Buffer) => this.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)))
    ws.on('error', (err: Error) => {
      if (this.errors.length < 5) this.errors.push(err.message)
    })
    ws.on('close', () => {
      if (this.ws !== ws) return
      this.closes++
      this.ws = null
      this.syncedNow = false
      this.ackQueue.length = 0
      if (!this.wasOpen) this.failures++
      this.wasOpen = false
      if (o.reconnect && !this.closedByUs) {
        const delay = Math.min(2 ** this.failures * 100, MAX_BACKOFF_MS)
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = null
          this.connect()
        }, delay)
      }
    })
  }

  /** Resolves once the server's sync step 2 (the answer to ours) has arrived on this connection. */
  synced(timeoutMs = 60_000): Promise<void> {
    if (this.syncedNow) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.o.dialect.kind} ${this.o.tenant}: not synced after ${timeoutMs} ms (${this.errors.join('; ')})`)), timeoutMs)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private authenticated(): void {
    const o = this.o
    const ws = this.ws
    if (!ws) return
    ws.send(o.dialect.syncStep1(o.tenant, this.doc ? Y.encodeStateVector(this.doc) : EMPTY_STATE_VECTOR))
    if (this.presenceState) this.sendPresence()
  }

  private onFrame(bytes: Uint8Array): void {
    const now = performance.now()
    const o = this.o
    const msg = o.dialect.read(bytes)
    switch (msg.kind) {
      case 'step1': {
        const diff = this.doc ? Y.encodeStateAsUpdate(this.doc, msg.stateVector) : EMPTY_UPDATE
        this.ws?.send(o.dialect.syncStep2(o.tenant, diff))
        if (o.dialect.acksEachUpdate) this.ackQueue.push(this.clock)
        return
      }
      case 'step2':
      case 'update': {
        if (msg.kind === 'update') this.updatesReceived++
        if (o.keep !== false) {
          this.received.push(msg.update.slice())
          this.receivedAt.push(now)
        }
        if (o.receiver) o.log.arrive(o.receiver, msg.update, now)
        if (o.dialect.echoesToSender && this.doc) {
          const self = this.doc.clientID
          for (const [client, , to] of updateRanges(msg.update, [])) if (client === self) this.acked(to, now)
        }
        if (msg.kind === 'step2' && !this.syncedNow) {
          this.syncedNow = true
          for (const w of this.waiters.splice(0)) w()
        }
        return
      }
      case 'durable': {
        this.acks++
        if (this.doc) this.acked(Y.decodeStateVector(msg.stateVector).get(this.doc.clientID) ?? 0, now)
        return
      }
      case 'ack': {
        this.acks++
        const clock = this.ackQueue.shift()
        if (clock !== undefined && msg.saved) this.acked(clock, now)
        return
      }
      case 'authenticated':
        this.authenticated()
        return
      case 'denied':
        this.errors.push(`denied: ${msg.reason}`)
        return
      case 'other':
        return
    }
  }

  private onAck: (() => void) | null = null

  /** Calls `fn` after every acknowledgement (the closed-loop writer refills its window there). */
  onAcknowledged(fn: () => void): void {
    this.onAck = fn
  }

  private acked(clock: number, now: number): void {
    if (clock <= this.ackedClock) return
    this.ackedClock = clock
    if (this.edits) this.o.log.ackThrough(this.edits, clock, now)
    this.onAck?.()
  }

  private sendUpdate(update: Uint8Array, clockAfter: number): void {
    const o = this.o
    this.ws?.send(o.dialect.update(o.tenant, update))
    if (o.dialect.acksEachUpdate) this.ackQueue.push(clockAfter)
  }

  /** One movement (a transaction of one or two records), sent at once if connected. */
  edit(): void {
    const maker = this.maker
    if (!maker) throw new Error('not a writer')
    maker.next(LOCAL)
    if (this.presenceState) {
      this.presenceState = { ...this.presenceState, viewing: maker.lastItem }
      this.sendPresence()
    }
  }

  /** Turns presence on: an awareness state now, renewed like y-protocols' Awareness. */
  startPresence(): void {
    const p = this.o.presence
    if (!p) return
    this.presenceState = { user: { name: p.name, color: '#3a7' }, viewing: null }
    this.sendPresence()
    // Awareness checks every 3 s from when it was created: a random phase per device.
    this.presencePhase = setTimeout(() => {
      this.presenceTimer = setInterval(() => {
        if (this.presenceState && performance.now() - this.presenceAt >= AWARENESS_RENEW_MS) this.sendPresence()
      }, AWARENESS_CHECK_MS)
    }, Math.floor(p.random() * AWARENESS_CHECK_MS))
  }

  private sendPresence(): void {
    this.presenceAt = performance.now()
    if (!this.ws || this.ws.readyState !== WS.OPEN) return
    this.awarenessClock++
    this.awarenessSent++
    this.ws.send(this.o.dialect.awareness(this.o.tenant, awarenessUpdate(this.awarenessId, this.awarenessClock, this.presenceState)))
  }

  /** Severs the socket without a close handshake (as when the server dies, seen from here). */
  terminate(): void {
    this.ws?.terminate()
  }

  close(): void {
    this.closedByUs = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    if (this.presenceTimer) clearInterval(this.presenceTimer)
    if (this.presencePhase) clearTimeout(this.presencePhase)
    this.ws?.terminate()
    this.ws = null
  }

  /** The client's state: its own document (if any) with everything it received applied. */
  state(): Y.Doc {
    // In the order this device made and received them, as a device that applies everything would
    // have: a writer's own movements all first, then everyone else's, makes Yjs walk the writer's
    // whole run for every concurrent insert (quadratic). One transaction per update: one around
    // all of them is 3 times slower in Yjs 13.6.
    const doc = new Y.Doc()
    if (this.initialState) Y.applyUpdate(doc, this.initialState)
    let s = 0
    for (let r = 0; r < this.received.length; r++) {
      const at = this.receivedAt[r] ?? 0
      for (; s < this.sent.length && (this.sent[s]?.at ?? 0) <= at; s++) Y.applyUpdate(doc, (this.sent[s] as { update: Uint8Array }).update)
      Y.applyUpdate(doc, this.received[r] as Uint8Array)
    }
    for (; s < this.sent.length; s++) Y.applyUpdate(doc, (this.sent[s] as { update: Uint8Array }).update)
    if (this.o.seedDoc) Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.o.seedDoc))
    return doc
  }
}
