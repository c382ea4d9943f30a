/**
 * One writer per document for server duties (alert derivation, scheduled snapshots): a lease per
 * tenant. With one instance it is always held; with several, a Redis key holds it for `ttlMs` and
 * the holder renews it as it works. When the holder dies, the key expires and the next instance
 * that asks takes the duty over (RedisLeases, redis-leases.ts: kept apart so that one instance never
 * loads ioredis).
 */
export interface DutyLeases {
  /** Whether this instance holds the tenant's duty lease now; takes or renews it when it can. */
  holds(tenant: string): Promise<boolean>
  close(): Promise<void>
}

export class LocalLeases implements DutyLeases {
  async holds(_tenant: string): Promise<boolean> {
    return true
  }
  async close(): Promise<void> {}
}
