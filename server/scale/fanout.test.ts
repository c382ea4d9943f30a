/** One contract for fan-out between instances, run against the in-memory hub and real Redis. */
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dropPrefix, freshPrefix, killConnections, testRedisUrl } from '../../test/support/redis.js'
import type { Fanout } from './fanout.js'
import { MemoryFanoutHub } from './memory-fanout.js'
import { RedisFanout } from './redis-fanout.js'

interface Pair {
  readonly a: Fanout
  readonly b: Fanout
  /** Cuts b off from the others and brings it back. */
  outage(): Promise<void>
  cleanup(): Promise<void>
}

const waitFor = async (check: () => boolean, ms = 5000) => {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

const fanoutContract = (name: string, makePair: () => Promise<Pair>) => {
  describe(`fan-out contract: ${name}`, () => {
    let pair: Pair
    beforeEach(async () => {
      pair = await makePair()
    })
    afterEach(async () => {
      await pair.cleanup()
    })

    it('[FAN-1] an update one instance publishes reaches the others subscribed to that tenant, intact, and not itself', async () => {
      const got = { a: [] as Uint8Array[], b: [] as Uint8Array[], other: [] as Uint8Array[] }
      const subA = pair.a.subscribe('acme', { update: (u) => got.a.push(u), awareness: () => undefined })
      const subB = pair.b.subscribe('acme', { update: (u) => got.b.push(u), awareness: () => undefined })
      const subOther = pair.b.subscribe('globex', { update: (u) => got.other.push(u), awareness: () => undefined })
      await Promise.all([subA.ready, subB.ready, subOther.ready])
      const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256) // zeros and high bytes
      await pair.a.publishUpdate('acme', payload)
      await waitFor(() => got.b.length === 1)
      expect(got.b[0]).toEqual(payload)
      await new Promise((r) => setTimeout(r, 50))
      expect(got.a).toEqual([])
      expect(got.other).toEqual([])
    })

    it('[FAN-2] presence travels the same way, kept apart from document updates', async () => {
      const updates: Uint8Array[] = []
      const presence: Uint8Array[] = []
      const sub = pair.b.subscribe('acme', { update: (u) => updates.push(u), awareness: (u) => presence.push(u) })
      await sub.ready
      await pair.a.publishAwareness('acme', Uint8Array.of(1, 2, 3))
      await waitFor(() => presence.length === 1)
      expect(updates).toEqual([])
    })

    it('[FAN-3] after unsubscribing nothing more arrives', async () => {
      const got: Uint8Array[] = []
      const sub = pair.b.subscribe('acme', { update: (u) => got.push(u), awareness: () => undefined })
      await sub.ready
      await sub.unsubscribe()
      await pair.a.publishUpdate('acme', Uint8Array.of(9))
      await new Promise((r) => setTimeout(r, 100))
      expect(got).toEqual([])
    })

    it('[FAN-5] a notice reaches every other instance, whether or not it has subscribed to that tenant', async () => {
      const got: Array<[string, string]> = []
      pair.b.onNotice((tenant, json) => got.push([tenant, json]))
      let own = 0
      pair.a.onNotice(() => own++)
      await new Promise((r) => setTimeout(r, 100)) // the notices channel is subscribed at start
      await pair.a.publishNotice('acme', '{"event":"alert.opened"}')
      await waitFor(() => got.length === 1)
      expect(got[0]).toEqual(['acme', '{"event":"alert.opened"}'])
      expect(own).toBe(0)
    })

    it('[FAN-4] when an instance loses the others and gets them back, it is told to catch up, and delivery resumes', async () => {
      const got: Uint8Array[] = []
      let resumed = 0
      pair.b.onResume(() => resumed++)
      const sub = pair.b.subscribe('acme', { update: (u) => got.push(u), awareness: () => undefined })
      await sub.ready
      await pair.outage()
      await waitFor(() => resumed === 1)
      await pair.a.publishUpdate('acme', Uint8Array.of(4, 2))
      await waitFor(() => got.length === 1)
    })
  })
}

fanoutContract('in-memory hub', async () => {
  const hub = new MemoryFanoutHub()
  const a = hub.instance('a')
  const b = hub.instance('b')
  return {
    a,
    b,
    outage: async () => {
      b.disconnect()
      b.reconnect()
    },
    cleanup: async () => {
      await a.close()
      await b.close()
    },
  }
})

const redisUrl = testRedisUrl()
if (redisUrl) {
  fanoutContract('Redis', async () => {
    const prefix = freshPrefix()
    const a = new RedisFanout({ url: redisUrl, prefix, instanceId: `${prefix}a` })
    const b = new RedisFanout({ url: redisUrl, prefix, instanceId: `${prefix}b` })
    return {
      a,
      b,
      outage: async () => {
        expect(await killConnections(redisUrl, `qm-sub-${prefix}b`)).toBe(1)
      },
      cleanup: async () => {
        await a.close()
        await b.close()
        await dropPrefix(redisUrl, prefix)
      },
    }
  })
}

/**
 * A loopback proxy in front of Redis that holds Redis's replies while `holding`, so a test can act
 * while a client is in the middle of its connection handshake.
 */
const handshakeProxy = async (url: string) => {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  const held: Array<() => void> = []
  let holding = true
  let sent = ''
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) })
    sockets.add(client).add(upstream)
    client.on('data', (b: Buffer) => {
      sent += b.toString('latin1')
      upstream.write(b)
    })
    upstream.on('data', (b: Buffer) => {
      if (holding) held.push(() => client.write(b))
      else client.write(b)
    })
    for (const [s, other] of [[client, upstream], [upstream, client]] as const) {
      s.on('error', () => other.destroy())
      s.on('close', () => other.destroy())
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String((server.address() as AddressInfo).port)
  return {
    url: proxied.toString(),
    /** What clients have written so far, as text. */
    sent: () => sent,
    release: () => {
      holding = false
      for (const write of held.splice(0)) write()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

if (redisUrl) {
  it('[FAN-6] a tenant subscribed while the connection to Redis is still in its handshake stays subscribed (ioredis#2037)', async () => {
    const prefix = freshPrefix()
    const proxy = await handshakeProxy(redisUrl)
    const a = new RedisFanout({ url: redisUrl, prefix, instanceId: `${prefix}a` })
    const b = new RedisFanout({ url: proxy.url, prefix, instanceId: `${prefix}b` })
    try {
      // b's subscriber connection has written its handshake and waits for the replies.
      await waitFor(() => proxy.sent().includes(`qm-sub-${prefix}b`))
      const got: Uint8Array[] = []
      const sub = b.subscribe('acme', { update: (u) => got.push(u), awareness: () => undefined })
      // Stock ioredis writes the SUBSCRIBE at once, inside the handshake; give it the chance.
      await waitFor(() => proxy.sent().includes(`${prefix}doc:acme`), 300).catch(() => undefined)
      proxy.release()
      await sub.ready
      const notices: string[] = []
      b.onNotice((_tenant, json) => notices.push(json))
      await a.publishUpdate('acme', Uint8Array.of(7))
      await waitFor(() => got.length === 1)
      await a.publishNotice('acme', '{}')
      await waitFor(() => notices.length === 1)
    } finally {
      await a.close()
      await b.close()
      await proxy.close()
      await dropPrefix(redisUrl, prefix)
    }
  })
}
