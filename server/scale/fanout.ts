/**
 * Fan-out between server instances. An update one instance accepted and stored reaches every
 * other instance of the same tenant, and so does presence. Single instance: LocalFanout (nothing
 * to do). Several: RedisFanout (redis-fanout.ts). One contract suite runs against both.
 */

export interface FanoutHandlers {
  /** A document update another instance stored. */
  update(update: Uint8Array): void
  /** An awareness update another instance received from its connections. */
  awareness(update: Uint8Array): void
}

export interface FanoutSubscription {
  /** Resolves once messages published from now on will be delivered. */
  readonly ready: Promise<void>
  unsubscribe(): Promise<void>
}

export interface Fanout {
  /** This instance's id; messages it publishes are never delivered back to it. */
  readonly instanceId: string
  /** Whether other instances can exist (false: publishing is a no-op). */
  readonly shared: boolean
  subscribe(tenant: string, handlers: FanoutHandlers): FanoutSubscription
  publishUpdate(tenant: string, update: Uint8Array): Promise<void>
  publishAwareness(tenant: string, update: Uint8Array): Promise<void>
  /**
   * A notice for people watching a tenant (an alert opened, resolved or acknowledged), carried to
   * every other instance whether or not it has the tenant's document loaded.
   */
  publishNotice(tenant: string, json: string): Promise<void>
  onNotice(listener: (tenant: string, json: string) => void): () => void
  /**
   * Called after the connection to the other instances was lost and is back: messages may have
   * been missed meanwhile, so every loaded document must catch up from storage.
   */
  onResume(listener: () => void): () => void
  close(): Promise<void>
}

/** One instance: there is nobody to tell. */
export class LocalFanout implements Fanout {
  readonly shared = false
  constructor(readonly instanceId: string = 'local') {}

  subscribe(): FanoutSubscription {
    return { ready: Promise.resolve(), unsubscribe: async () => undefined }
  }

  async publishUpdate(): Promise<void> {}
  async publishAwareness(): Promise<void> {}
  async publishNotice(): Promise<void> {}

  onNotice(): () => void {
    return () => undefined
  }

  onResume(): () => void {
    return () => undefined
  }

  async close(): Promise<void> {}
}
