/** Duty leases: one instance per tenant does the server duties, and a dead holder's duties move. */
import { afterEach, describe, expect, it } from 'vitest'
import { dropPrefix, freshPrefix, testRedisUrl } from '../../test/support/redis.js'
import { LocalLeases } from './leases.js'
import { RedisLeases } from './redis-leases.js'

describe('duty leases', () => {
  it('[LEASE-1] a single instance always holds every tenant', async () => {
    const leases = new LocalLeases()
    expect(await leases.holds('acme')).toBe(true)
    await leases.close()
  })

  const url = testRedisUrl()
  if (!url) return
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })
  const pair = (ttlMs: number) => {
    const prefix = freshPrefix()
    const a = new RedisLeases({ url, prefix, instanceId: 'a', ttlMs })
    const b = new RedisLeases({ url, prefix, instanceId: 'b', ttlMs })
    cleanups.push(async () => {
      await a.close()
      await b.close()
      await dropPrefix(url, prefix)
    })
    return { a, b }
  }

  it('[LEASE-2] with several instances exactly one holds a tenant, and tenants are independent', async () => {
    const { a, b } = pair(5000)
    expect(await a.holds('acme')).toBe(true)
    expect(await b.holds('acme')).toBe(false)
    expect(await a.holds('acme')).toBe(true) // renewing is holding
    expect(await b.holds('globex')).toBe(true)
    expect(await a.holds('globex')).toBe(false)
  })

  it('[LEASE-3] a holder that stops (closing releases; dying lets the lease expire) hands its duties over', async () => {
    const { a, b } = pair(400)
    expect(await a.holds('acme')).toBe(true)
    await a.close()
    expect(await b.holds('acme')).toBe(true)

    const prefix = freshPrefix()
    const c = new RedisLeases({ url, prefix, instanceId: 'c', ttlMs: 400 })
    const d = new RedisLeases({ url, prefix, instanceId: 'd', ttlMs: 400 })
    cleanups.push(async () => {
      await c.close() // releases nothing: the lease is d's by then
      await d.close()
      await dropPrefix(url, prefix)
    })
    expect(await c.holds('acme')).toBe(true)
    expect(await d.holds('acme')).toBe(false)
    // c "dies": it never renews or releases.
    await new Promise((r) => setTimeout(r, 600))
    expect(await d.holds('acme')).toBe(true)
  })
})
