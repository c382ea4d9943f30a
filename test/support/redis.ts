/**
 * Redis for tests: the URL from QM_TEST_REDIS_URL (or REDIS_URL), and a fresh key prefix per use
 * so runs never see each other's keys or channels. In CI a missing URL is an error, never a skip.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

export const testRedisUrl = (): string | undefined => {
  const url = process.env.QM_TEST_REDIS_URL || process.env.REDIS_URL
  if (!url && process.env.CI) throw new Error('QM_TEST_REDIS_URL is not set: the Redis suites must run in CI (.ci/run sets it)')
  if (!url) console.warn('[tests] QM_TEST_REDIS_URL is not set: the Redis suites are not run on this machine')
  return url || undefined
}

export const freshPrefix = (): string => `qmtest:${randomUUID().slice(0, 8)}:`

/** Deletes every key under a prefix. */
export const dropPrefix = async (url: string, prefix: string): Promise<void> => {
  const redis = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
}

/** Kills the Redis connections whose name starts with `namePrefix` (they reconnect on their own). */
export const killConnections = async (url: string, namePrefix: string): Promise<number> => {
  const redis = new Redis(url)
  try {
    const list = String(await redis.client('LIST'))
    let killed = 0
    for (const line of list.split('\n')) {
      const id = /(?:^| )id=(\d+)/.exec(line)?.[1]
      const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? ''
      if (id && name.startsWith(namePrefix)) {
        await redis.client('KILL', 'ID', id)
        killed++
      }
    }
    return killed
  } finally {
    await redis.quit()
  }
}
