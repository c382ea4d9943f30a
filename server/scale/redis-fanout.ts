/**
 * Fan-out through Redis pub/sub: one channel per tenant, `${prefix}doc:${tenant}`, with messages
 * `varString instanceId, varUint kind (0 update, 1 awareness), varUint8Array payload`; and one
 * channel for people's notices of every tenant, `${prefix}notices`, with messages
 * `varString instanceId, varUint 2, varString tenant, varString json`.
 *
 * Pub/sub delivers at most once: when the subscriber connection drops and comes back, whatever
 * was published meanwhile is gone, so `onResume` listeners catch up from storage (every update is
 * stored before it is published).
 */
import { randomUUID } from 'node:crypto'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { Redis } from 'ioredis'
import type { Fanout, FanoutHandlers, FanoutSubscription } from './fanout.js'

const KIND_UPDATE = 0
const KIND_AWARENESS = 1
const KIND_NOTICE = 2

export interface RedisFanoutOptions {
  readonly url: string
  /** Prefix of every key and channel. @default 'qm:' */
  readonly prefix?: string
  readonly instanceId?: string
}

export class RedisFanout implements Fanout {
  readonly shared = true
  readonly instanceId: string
  private readonly prefix: string
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly handlers = new Map<string, { readonly set: Set<FanoutHandlers>; readonly ready: Promise<void> }>()
  private readonly resumeListeners = new Set<() => void>()
  private readonly noticeListeners = new Set<(tenant: string, json: string) => void>()
  private everReady = false
  private lost = false
  /** Waits for the subscriber connection to be ready, while it is not. */
  private subReady: Promise<void> | null = null

  constructor(options: RedisFanoutOptions) {
    this.instanceId = options.instanceId ?? randomUUID()
    this.prefix = options.prefix ?? 'qm:'
    // Commands wait while Redis is away (offline queue) rather than fail: publishing resumes.
    this.pub = new Redis(options.url, { maxRetriesPerRequest: null, connectionName: `qm-pub-${this.instanceId}` })
    this.sub = new Redis(options.url, { maxRetriesPerRequest: null, connectionName: `qm-sub-${this.instanceId}` })
    this.pub.on('error', () => undefined) // reconnects on its own; errors surface on commands
    this.sub.on('error', () => undefined)
    this.sub.on('close', () => {
      if (this.everReady) this.lost = true
    })
    this.sub.on('ready', () => {
      // ioredis re-subscribes to every channel on reconnect; then tell listeners to catch up.
      if (this.lost) {
        this.lost = false
        for (const l of this.resumeListeners) l()
      }
      this.everReady = true
    })
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.deliver(channel.toString(), message))
    // Notices go to every instance, loaded or not: one channel for all tenants.
    this.onSub((sub) => sub.subscribe(this.noticeChannel)).catch((err: unknown) => console.error('[fanout] could not subscribe to notices', err))
  }

  /**
   * Runs a (un)subscribe on the subscriber connection once it is ready, in call order. ioredis 5
   * writes a SUBSCRIBE at once even in the middle of its connection handshake; the reply puts the
   * connection in subscriber mode, so the ready check that follows (INFO) fails, ioredis reconnects
   * and forgets the channel, and the caller, told it was subscribed, never hears from it again
   * (ioredis#2037; test FAN-6).
   */
  private onSub<T>(command: (sub: Redis) => Promise<T>): Promise<T> {
    if (this.sub.status === 'ready') return command(this.sub)
    this.subReady ??= new Promise<void>((resolve, reject) => {
      const ready = () => {
        this.subReady = null
        this.sub.off('end', end)
        resolve()
      }
      const end = () => {
        this.subReady = null
        this.sub.off('ready', ready)
        reject(new Error('the connection to Redis is closed'))
      }
      this.sub.once('ready', ready).once('end', end)
    })
    return this.subReady.then(() => command(this.sub))
  }

  private get noticeChannel(): string {
    return `${this.prefix}notices`
  }

  private channel(tenant: string): string {
    return `${this.prefix}doc:${tenant}`
  }

  private deliver(channel: string, message: Buffer): void {
    try {
      const d = decoding.createDecoder(new Uint8Array(message.buffer, message.byteOffset, message.byteLength))
      if (decoding.readVarString(d) === this.instanceId) return
      const kind = decoding.readVarUint(d)
      if (channel === this.noticeChannel) {
        if (kind !== KIND_NOTICE) return
        const tenant = decoding.readVarString(d)
        const json = decoding.readVarString(d)
        for (const l of this.noticeListeners) l(tenant, json)
        return
      }
      const subscribed = this.handlers.get(channel.slice(this.channel('').length))
      if (!subscribed) return
      const payload = decoding.readVarUint8Array(d)
      for (const h of subscribed.set) {
        if (kind === KIND_UPDATE) h.update(payload)
        else if (kind === KIND_AWARENESS) h.awareness(payload)
      }
    } catch (err) {
      console.error(`[fanout] dropped a malformed message on ${channel}`, err)
    }
  }

  subscribe(tenant: string, handlers: FanoutHandlers): FanoutSubscription {
    let subscribed = this.handlers.get(tenant)
    if (!subscribed) {
      // Later subscribers of the tenant wait for the same SUBSCRIBE as the first.
      subscribed = { set: new Set(), ready: this.onSub((sub) => sub.subscribe(this.channel(tenant))).then(() => undefined) }
      this.handlers.set(tenant, subscribed)
    }
    subscribed.set.add(handlers)
    return {
      ready: subscribed.ready,
      unsubscribe: async () => {
        const current = this.handlers.get(tenant)
        if (!current?.set.delete(handlers) || current.set.size > 0) return
        this.handlers.delete(tenant)
        await this.onSub((sub) => sub.unsubscribe(this.channel(tenant)))
      },
    }
  }

  private async publish(tenant: string, kind: number, payload: Uint8Array): Promise<void> {
    const e = encoding.createEncoder()
    encoding.writeVarString(e, this.instanceId)
    encoding.writeVarUint(e, kind)
    encoding.writeVarUint8Array(e, payload)
    await this.pub.publish(this.channel(tenant), Buffer.from(encoding.toUint8Array(e)))
  }

  publishUpdate(tenant: string, update: Uint8Array): Promise<void> {
    return this.publish(tenant, KIND_UPDATE, update)
  }

  publishAwareness(tenant: string, update: Uint8Array): Promise<void> {
    return this.publish(tenant, KIND_AWARENESS, update)
  }

  async publishNotice(tenant: string, json: string): Promise<void> {
    const e = encoding.createEncoder()
    encoding.writeVarString(e, this.instanceId)
    encoding.writeVarUint(e, KIND_NOTICE)
    encoding.writeVarString(e, tenant)
    encoding.writeVarString(e, json)
    await this.pub.publish(this.noticeChannel, Buffer.from(encoding.toUint8Array(e)))
  }

  onNotice(listener: (tenant: string, json: string) => void): () => void {
    this.noticeListeners.add(listener)
    return () => this.noticeListeners.delete(listener)
  }

  onResume(listener: () => void): () => void {
    this.resumeListeners.add(listener)
    return () => this.resumeListeners.delete(listener)
  }

  async close(): Promise<void> {
    this.handlers.clear()
    this.resumeListeners.clear()
    this.noticeListeners.clear()
    await Promise.allSettled([this.sub.quit(), this.pub.quit()])
  }
}
