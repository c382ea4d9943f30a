/**
 * Duty leases across several instances (REDIS_URL): a Redis key per tenant holds the lease for
 * `ttlMs`, and the holder renews it as it works (the contract is in leases.ts). Apart from
 * leases.ts so that a single instance, which needs only LocalLeases, never loads ioredis.
 */
import { Redis } from 'ioredis'
import type { DutyLeases } from './leases.js'

/** Takes the lease if free, renews it if ours: 1 when held afterwards, else 0. */
const ACQUIRE = `
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if current == false then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`

export interface RedisLeasesOptions {
  readonly url: string
  readonly instanceId: string
  /** @default 'qm:' */
  readonly prefix?: string
  /** How long a lease lasts without renewal; a dead holder's duties move after this. @default 10 s */
  readonly ttlMs?: number
}

export class RedisLeases implements DutyLeases {
  private readonly redis: Redis
  private readonly held = new Map<string, number>() // tenant → when our lease ends (local clock)
  private readonly ttlMs: number
  private readonly prefix: string

  constructor(private readonly options: RedisLeasesOptions) {
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 2 })
    this.redis.on('error', () => undefined) // reconnects on its own; holds() answers false meanwhile
    this.ttlMs = options.ttlMs ?? 10_000
    this.prefix = options.prefix ?? 'qm:'
  }

  async holds(tenant: string): Promise<boolean> {
    const until = this.held.get(tenant)
    const now = Date.now()
    // Renew when a third of the lease is gone; until then trust it.
    if (until !== undefined && until - now > (this.ttlMs * 2) / 3) return true
    try {
      const ok = (await this.redis.eval(ACQUIRE, 1, `${this.prefix}lease:${tenant}`, this.options.instanceId, String(this.ttlMs))) === 1
      if (ok) this.held.set(tenant, now + this.ttlMs)
      else this.held.delete(tenant)
      return ok
    } catch {
      // Without Redis nobody can prove they hold it: a duty skipped now runs again later.
      this.held.delete(tenant)
      return false
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(
      [...this.held.keys()].map((tenant) => this.redis.eval(RELEASE, 1, `${this.prefix}lease:${tenant}`, this.options.instanceId)),
    )
    this.held.clear()
    await this.redis.quit().catch(() => undefined)
  }
}
