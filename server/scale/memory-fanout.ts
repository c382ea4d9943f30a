/**
 * Fan-out between instances in one process, for tests: a hub that stands in for Redis, with a
 * switch to cut an instance off and bring it back (as a Redis outage would).
 */
import type { Fanout, FanoutHandlers, FanoutSubscription } from './fanout.js'

export class MemoryFanoutHub {
  private readonly members = new Set<MemoryFanout>()

  instance(instanceId: string): MemoryFanout {
    const member = new MemoryFanout(instanceId, this)
    this.members.add(member)
    return member
  }

  /** @internal */
  send(from: MemoryFanout, tenant: string, kind: 'update' | 'awareness', payload: Uint8Array): void {
    if (!from.connected) return
    for (const m of this.members) if (m !== from) m.deliver(tenant, kind, payload.slice())
  }

  /** @internal */
  sendNotice(from: MemoryFanout, tenant: string, json: string): void {
    if (!from.connected) return
    for (const m of this.members) if (m !== from) m.deliverNotice(tenant, json)
  }

  /** @internal */
  leave(member: MemoryFanout): void {
    this.members.delete(member)
  }
}

export class MemoryFanout implements Fanout {
  readonly shared = true
  connected = true
  private readonly handlers = new Map<string, Set<FanoutHandlers>>()
  private readonly resumeListeners = new Set<() => void>()
  private readonly noticeListeners = new Set<(tenant: string, json: string) => void>()

  constructor(
    readonly instanceId: string,
    private readonly hub: MemoryFanoutHub,
  ) {}

  /** Messages still to lose, as pub/sub may (tests). */
  private toDrop = 0

  /** Loses the next `n` document updates this instance would receive, without telling it. */
  dropNext(n: number): void {
    this.toDrop = n
  }

  /** @internal */
  deliver(tenant: string, kind: 'update' | 'awareness', payload: Uint8Array): void {
    if (!this.connected) return
    if (kind === 'update' && this.toDrop > 0) {
      this.toDrop--
      return
    }
    // Asynchronous, as a network would be.
    queueMicrotask(() => {
      for (const h of this.handlers.get(tenant) ?? []) h[kind](payload)
    })
  }

  /** @internal */
  deliverNotice(tenant: string, json: string): void {
    if (!this.connected) return
    queueMicrotask(() => {
      for (const l of this.noticeListeners) l(tenant, json)
    })
  }

  /** Cuts this instance off: it neither sends nor receives until `reconnect`. */
  disconnect(): void {
    this.connected = false
  }

  reconnect(): void {
    this.connected = true
    for (const l of this.resumeListeners) l()
  }

  subscribe(tenant: string, handlers: FanoutHandlers): FanoutSubscription {
    const set = this.handlers.get(tenant) ?? new Set()
    set.add(handlers)
    this.handlers.set(tenant, set)
    return {
      ready: Promise.resolve(),
      unsubscribe: async () => {
        set.delete(handlers)
        if (set.size === 0) this.handlers.delete(tenant)
      },
    }
  }

  async publishUpdate(tenant: string, update: Uint8Array): Promise<void> {
    this.hub.send(this, tenant, 'update', update)
  }

  async publishAwareness(tenant: string, update: Uint8Array): Promise<void> {
    this.hub.send(this, tenant, 'awareness', update)
  }

  async publishNotice(tenant: string, json: string): Promise<void> {
    this.hub.sendNotice(this, tenant, json)
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
    this.hub.leave(this)
  }
}
