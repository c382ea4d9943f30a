/**
 * A loopback TCP proxy that makes a network bad on purpose, for the chaos torture test.
 *
 * It passes the HTTP upgrade through, then reads the WebSocket frames in both directions and,
 * with the probabilities it is given, delays them (order within a direction is kept, as TCP
 * would), drops whole data frames, sends whole data frames twice, or cuts the connection (both
 * sockets destroyed, possibly in the middle of a frame). Control frames (close, ping, pong) and
 * fragments of a fragmented message are never dropped or doubled: doing that breaks the WebSocket
 * protocol itself rather than the network under it.
 */
import { connect, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import type { RandomSource } from '../../sync/ids.js'

export interface Chaos {
  /** Largest extra delay of a frame (ms); most frames get much less. */
  readonly maxDelayMs: number
  /** Chance that a data frame is dropped. */
  readonly drop: number
  /** Chance that a data frame is sent twice. */
  readonly duplicate: number
  /** Chance, per frame, that the connection is cut there. */
  readonly cut: number
}

export const CALM: Chaos = { maxDelayMs: 0, drop: 0, duplicate: 0, cut: 0 }

export interface ProxyStats {
  connections: number
  refused: number
  frames: number
  dropped: number
  duplicated: number
  delayed: number
  cuts: number
}

/** Reads whole WebSocket frames from a byte stream; `null` while a frame is incomplete. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0)
  private handshakeDone = false

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
  }

  /** The next unit to forward: the HTTP handshake, or one whole frame with its opcode and FIN bit. */
  next(): { bytes: Buffer; opcode: number; fin: boolean; handshake: boolean } | null {
    if (!this.handshakeDone) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return null
      this.handshakeDone = true
      const bytes = this.buffer.subarray(0, end + 4)
      this.buffer = this.buffer.subarray(end + 4)
      return { bytes, opcode: -1, fin: true, handshake: true }
    }
    const b = this.buffer
    if (b.length < 2) return null
    const b0 = b[0] as number
    const b1 = b[1] as number
    let length = b1 & 0x7f
    let offset = 2
    if (length === 126) {
      if (b.length < 4) return null
      length = b.readUInt16BE(2)
      offset = 4
    } else if (length === 127) {
      if (b.length < 10) return null
      length = Number(b.readBigUInt64BE(2))
      offset = 10
    }
    if ((b1 & 0x80) !== 0) offset += 4
    if (b.length < offset + length) return null
    const bytes = b.subarray(0, offset + length)
    this.buffer = b.subarray(offset + length)
    return { bytes, opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, handshake: false }
  }
}

export class ChaosProxy {
  private server: Server | null = null
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>()
  chaos: Chaos = CALM
  readonly stats: ProxyStats = { connections: 0, refused: 0, frames: 0, dropped: 0, duplicated: 0, delayed: 0, cuts: 0 }

  constructor(
    private readonly targetPort: number,
    private readonly random: RandomSource,
  ) {}

  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return (server.address() as AddressInfo).port
  }

  private accept(client: Socket): void {
    this.stats.connections++
    const upstream = connect(this.targetPort, '127.0.0.1')
    const pair = { client, upstream }
    this.pairs.add(pair)
    let cut = false
    const destroy = () => {
      if (cut) return
      cut = true
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    upstream.once('error', () => {
      this.stats.refused++
      destroy()
    })
    client.once('error', destroy)
    client.once('close', destroy)
    upstream.once('close', destroy)
    const pipe = (from: Socket, to: Socket) => {
      const reader = new FrameReader()
      // Frames leave in order, each no earlier than the one before it: one queue per direction.
      const queue: Array<{ readonly bytes: Buffer; readonly at: number }> = []
      let timer: NodeJS.Timeout | null = null
      const flush = () => {
        timer = null
        const now = Date.now()
        while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) {
          const next = queue.shift()
          if (next && !cut && !to.destroyed) to.write(next.bytes)
        }
        const head = queue[0]
        if (head && !cut) timer = setTimeout(flush, head.at - now)
      }
      const enqueue = (bytes: Buffer, at: number) => {
        queue.push({ bytes: Buffer.from(bytes), at })
        if (timer === null) flush()
      }
      let releaseAt = 0
      from.on('data', (chunk: Buffer) => {
        reader.push(chunk)
        for (let unit = reader.next(); unit !== null; unit = reader.next()) {
          if (cut) return
          const chaos = this.chaos
          const now = Date.now()
          if (unit.handshake) {
            enqueue(unit.bytes, Math.max(releaseAt, now))
            continue
          }
          this.stats.frames++
          if (chaos.cut > 0 && this.random() < chaos.cut) {
            this.stats.cuts++
            // Sometimes in the middle of the frame: half of it goes first.
            if (this.random() < 0.5 && !to.destroyed) to.write(unit.bytes.subarray(0, Math.floor(unit.bytes.length / 2)))
            destroy()
            return
          }
          const data = (unit.opcode === 1 || unit.opcode === 2) && unit.fin
          if (data && chaos.drop > 0 && this.random() < chaos.drop) {
            this.stats.dropped++
            continue
          }
          const copies = data && chaos.duplicate > 0 && this.random() < chaos.duplicate ? 2 : 1
          if (copies === 2) this.stats.duplicated++
          // Mostly short delays, now and then a long one (a Wi-Fi hiccup).
          const r = this.random()
          const delay = chaos.maxDelayMs === 0 ? 0 : r < 0.9 ? r * chaos.maxDelayMs * 0.05 : r * chaos.maxDelayMs
          releaseAt = Math.max(releaseAt, now + delay)
          if (releaseAt > now) this.stats.delayed++
          for (let i = 0; i < copies; i++) enqueue(unit.bytes, releaseAt)
        }
      })
    }
    pipe(client, upstream)
    pipe(upstream, client)
  }

  /** Cuts every open connection now. */
  cutAll(): void {
    for (const { client, upstream } of [...this.pairs]) {
      this.stats.cuts++
      client.destroy()
      upstream.destroy()
    }
    this.pairs.clear()
  }

  get open(): number {
    return this.pairs.size
  }

  async close(): Promise<void> {
    this.cutAll()
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
