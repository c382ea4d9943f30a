/** One WebSocket connection: its session, what it may send, and how we write to it. */
import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { GuardedInbox } from '../../sync/guard.js'
import type { Actor, Origin } from '../../sync/origin.js'
import { CLOSE } from '../../sync/protocol.js'
import type { CloseName } from '../../sync/protocol.js'
import type { RelayLimits, Session } from './types.js'

/** A connection whose unsent output grows past this is too slow to keep up: it is closed. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

export class Connection {
  readonly id: string
  session: Session | null = null
  /** Yjs awareness client ids this connection speaks for. */
  readonly awarenessIds = new Set<number>()
  /** This connection's updates that wait for earlier ones (see GuardedInbox). */
  inbox: GuardedInbox | null = null
  /** Bytes received before authentication completed. */
  unauthenticatedBytes = 0
  /**
   * Frames waiting for the update rate limit, oldest first, each with the time it may run.
   * Bounded: the socket is paused while any wait, so only frames already read can queue here.
   */
  readonly held: Array<{ readonly bytes: Uint8Array; readonly notBefore: number }> = []
  private tokens: number
  private refilledAt = Date.now()
  private closed = false

  constructor(
    readonly socket: WebSocket,
    readonly tenant: string,
    /** Whether the client understands our custom messages (URL parameter ext=1). */
    readonly ext: boolean,
    private readonly limits: RelayLimits,
  ) {
    this.id = randomUUID()
    this.tokens = limits.updateBurst
  }

  get origin(): Origin {
    return { source: 'connection', connectionId: this.id }
  }

  get actor(): Actor {
    const s = this.session
    if (!s) throw new Error('connection is not authenticated')
    return { kind: 'user', userId: s.userId, role: s.role }
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN
  }

  send(data: Uint8Array): void {
    if (!this.isOpen) return
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.terminate()
      return
    }
    this.socket.send(data, { binary: true })
  }

  /** Sends a custom message only to clients that asked for them. */
  sendExt(data: Uint8Array): void {
    if (this.ext) this.send(data)
  }

  close(name: CloseName, detail?: string): void {
    if (this.closed) return
    this.closed = true
    const { code, reason } = CLOSE[name]
    // A close reason is at most 123 bytes.
    const text = detail ? `${reason}: ${detail}`.slice(0, 120) : reason
    try {
      this.socket.close(code, text)
    } catch {
      this.socket.terminate()
    }
  }

  /**
   * Takes one update token (a token bucket refilled at updatesPerSecond). Returns 0 when the
   * update may go now, or how many milliseconds the sender should be paused first.
   */
  takeUpdateToken(now = Date.now()): number {
    const { updatesPerSecond, updateBurst } = this.limits
    this.tokens = Math.min(updateBurst, this.tokens + ((now - this.refilledAt) / 1000) * updatesPerSecond)
    this.refilledAt = now
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / updatesPerSecond) * 1000)
  }
}
