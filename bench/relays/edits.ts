/**
 * Every edit the writers make, when it was made, when the server acknowledged it, and when each
 * other client of its tenant had it. Fan-out latency of an edit = the time until the last of the
 * other clients had it ("edit to every other client having it").
 *
 * Arrays are typed and grown in chunks: a run may make a few hundred thousand edits, and every
 * client reads every frame it receives.
 */
import { updateRanges } from './wire.js'

const grow = <T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(a: T, need: number, make: (n: number) => T): T => {
  if (need <= a.length) return a
  const next = make(Math.max(need, a.length * 2))
  next.set(a)
  return next
}

/** The edits of one writer: its Yjs client id and, per clock, which edit wrote that clock. */
export interface WriterEdits {
  readonly clientId: number
  readonly tenant: number
  editAtClock: Int32Array
}

/** A client that receives updates: which edits it has seen (one byte per global edit). */
export class Receiver {
  seen = new Uint8Array(1024)
  /** Distinct edits of other writers received. */
  received = 0
  constructor(
    readonly tenant: number,
    /** The writer this receiver is (its own edits do not count as arrivals), or null. */
    readonly self: WriterEdits | null,
  ) {}
}

export class EditLog {
  private sentAt = new Float64Array(4096)
  private ackAt = new Float64Array(4096)
  private lastAt = new Float64Array(4096)
  private arrivals = new Int32Array(4096)
  private records = new Uint8Array(4096)
  private tenantOf = new Int32Array(4096)
  count = 0
  /** Records (movements) written: a transfer is one edit of two records. */
  recordCount = 0
  /** Clients per tenant that are not the writer: how many arrivals complete an edit. */
  private readonly expected: number[] = []
  private readonly byClient = new Map<number, WriterEdits>()
  private readonly scratch: Array<[number, number, number]> = []
  acked = 0
  duplicateArrivals = 0
  unknownArrivals = 0

  setReceivers(tenant: number, others: number): void {
    this.expected[tenant] = others
  }

  writer(clientId: number, tenant: number): WriterEdits {
    const w: WriterEdits = { clientId, tenant, editAtClock: new Int32Array(256).fill(-1) }
    this.byClient.set(clientId, w)
    return w
  }

  /** Registers an edit that wrote clocks [from, to) of `w`; returns its global index. */
  add(w: WriterEdits, from: number, to: number, records: number, now: number): number {
    const i = this.count++
    const n = this.count
    this.sentAt = grow(this.sentAt, n, (k) => new Float64Array(k))
    this.ackAt = grow(this.ackAt, n, (k) => new Float64Array(k))
    this.lastAt = grow(this.lastAt, n, (k) => new Float64Array(k))
    this.arrivals = grow(this.arrivals, n, (k) => new Int32Array(k))
    this.records = grow(this.records, n, (k) => new Uint8Array(k))
    this.tenantOf = grow(this.tenantOf, n, (k) => new Int32Array(k))
    this.sentAt[i] = now
    this.records[i] = records
    this.tenantOf[i] = w.tenant
    this.recordCount += records
    if (to > w.editAtClock.length) {
      const next = new Int32Array(Math.max(to, w.editAtClock.length * 2)).fill(-1)
      next.set(w.editAtClock)
      w.editAtClock = next
    }
    for (let c = from; c < to; c++) w.editAtClock[c] = i
    return i
  }

  /** The server acknowledged edit `i` (durable, SyncStatus, or the echo). */
  ack(i: number, now: number): void {
    if (this.ackAt[i] !== 0) return
    this.ackAt[i] = now
    this.acked++
  }

  /** Acknowledges every edit of `w` below `clock` (a durable state vector). */
  ackThrough(w: WriterEdits, clock: number, now: number): void {
    const end = Math.min(clock, w.editAtClock.length)
    let previous = -1
    for (let c = end - 1; c >= 0; c--) {
      const i = w.editAtClock[c] ?? -1
      if (i < 0 || i === previous) continue
      previous = i
      if (this.ackAt[i] !== 0) break // acknowledgements come in order: the rest were acknowledged already
      this.ack(i, now)
    }
  }

  /** A receiver got `update` at `now`: marks the edits it carries; `ownEdits` hears of the receiver's own. */
  arrive(r: Receiver, update: Uint8Array, now: number, ownEdits?: (i: number) => void): void {
    for (const [client, from, to] of updateRanges(update, this.scratch)) {
      const w = this.byClient.get(client)
      if (!w) {
        this.unknownArrivals++
        continue
      }
      let previous = -1
      for (let c = from; c < to && c < w.editAtClock.length; c++) {
        const i = w.editAtClock[c] ?? -1
        if (i < 0 || i === previous) continue
        previous = i
        if (w === r.self) {
          ownEdits?.(i)
          continue
        }
        if (i >= r.seen.length) r.seen = grow(r.seen, i + 1, (k) => new Uint8Array(k))
        if (r.seen[i] === 1) {
          this.duplicateArrivals++
          continue
        }
        r.seen[i] = 1
        r.received++
        this.arrivals[i] = (this.arrivals[i] ?? 0) + 1
        this.lastAt[i] = now
      }
    }
  }

  /** Edits (by index) that some client of their tenant never received. */
  incomplete(from = 0, to = this.count): number[] {
    const out: number[] = []
    for (let i = from; i < to; i++) if ((this.arrivals[i] ?? 0) < (this.expected[this.tenantOf[i] ?? 0] ?? 0)) out.push(i)
    return out
  }

  /** Fan-out latencies (ms) of the complete edits sent in [fromMs, toMs). */
  latencies(fromMs: number, toMs: number): Float64Array {
    const out: number[] = []
    for (let i = 0; i < this.count; i++) {
      const sent = this.sentAt[i] ?? 0
      if (sent < fromMs || sent >= toMs) continue
      if ((this.arrivals[i] ?? 0) < (this.expected[this.tenantOf[i] ?? 0] ?? 0)) continue
      out.push((this.lastAt[i] ?? 0) - sent)
    }
    return Float64Array.from(out).sort()
  }

  /** Acknowledgements that arrived in [fromMs, toMs). */
  ackedBetween(fromMs: number, toMs: number): number {
    let n = 0
    for (let i = 0; i < this.count; i++) {
      const a = this.ackAt[i] ?? 0
      if (a >= fromMs && a < toMs) n++
    }
    return n
  }

  sentBetween(fromMs: number, toMs: number): number {
    let n = 0
    for (let i = 0; i < this.count; i++) {
      const s = this.sentAt[i] ?? 0
      if (s >= fromMs && s < toMs) n++
    }
    return n
  }

  /** Time by which every edit in [from, to) had reached every other client of its tenant (ms), or NaN. */
  completeAt(from: number, to: number): number {
    let last = 0
    for (let i = from; i < to; i++) {
      if ((this.arrivals[i] ?? 0) < (this.expected[this.tenantOf[i] ?? 0] ?? 0)) return NaN
      last = Math.max(last, this.lastAt[i] ?? 0)
    }
    return last
  }

  /** Time by which every edit in [from, to) had been acknowledged (ms), or NaN. */
  ackedAt(from: number, to: number): number {
    let last = 0
    for (let i = from; i < to; i++) {
      const a = this.ackAt[i] ?? 0
      if (a === 0) return NaN
      last = Math.max(last, a)
    }
    return last
  }

  isAcked(i: number): boolean {
    return (this.ackAt[i] ?? 0) !== 0
  }
}
