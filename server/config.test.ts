import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

const configError = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('config', () => {
  it('[CONFIG-1] an empty environment gives the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8787,
      dataDir: resolve('data'),
      authSecret: undefined,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2_592_000,
      relay: {
        maxFrameBytes: 8 * 1024 * 1024,
        maxUnauthenticatedBytes: 64 * 1024,
        updatesPerSecond: 200,
        updateBurst: 400,
        maxDocumentBytes: 256 * 1024 * 1024,
        maxConnectionsPerUser: 20,
        idleUnloadMs: 60_000,
        maxAwarenessStateBytes: 4096,
        compactEveryUpdates: 500,
      },
      databaseUrl: undefined,
      databaseSchema: 'public',
      redisUrl: undefined,
      redisPrefix: 'qm:',
      snapshots: { intervalMinutes: 60, keepScheduled: 168, keepDays: 90 },
      webhooks: { maxAttempts: 10, retryBaseSeconds: 5, timeoutSeconds: 10 },
    })
  })

  it('[CONFIG-1] every variable is read, empty ones count as unset, and the result is frozen', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '0',
      DATA_DIR: '/var/lib/qm',
      AUTH_SECRET: 's'.repeat(32),
      ACCESS_TOKEN_TTL_SECONDS: '60',
      REFRESH_TOKEN_TTL_SECONDS: '3600',
      MAX_FRAME_BYTES: '1048576',
      MAX_UNAUTHENTICATED_BYTES: '4096',
      MAX_UPDATES_PER_SECOND: '10',
      UPDATE_BURST: '20',
      MAX_DOCUMENT_BYTES: '10485760',
      MAX_CONNECTIONS_PER_USER: '3',
      IDLE_UNLOAD_SECONDS: '0',
      COMPACT_EVERY_UPDATES: '50',
      MAX_AWARENESS_STATE_BYTES: '1024',
      SNAPSHOT_INTERVAL_MINUTES: '0',
      SNAPSHOT_KEEP_SCHEDULED: '3',
      SNAPSHOT_KEEP_DAYS: '7',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_SECONDS: '60',
      WEBHOOK_TIMEOUT_SECONDS: '2',
    })
    expect(config.snapshots).toEqual({ intervalMinutes: 0, keepScheduled: 3, keepDays: 7 })
    expect(config.webhooks).toEqual({ maxAttempts: 3, retryBaseSeconds: 60, timeoutSeconds: 2 })
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, dataDir: '/var/lib/qm', authSecret: 's'.repeat(32), accessTokenTtlSeconds: 60 })
    expect(config.relay).toEqual({
      maxFrameBytes: 1048576,
      maxUnauthenticatedBytes: 4096,
      updatesPerSecond: 10,
      updateBurst: 20,
      maxDocumentBytes: 10485760,
      maxConnectionsPerUser: 3,
      idleUnloadMs: 0,
      compactEveryUpdates: 50,
      maxAwarenessStateBytes: 1024,
    })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.relay)).toBe(true)
    expect(loadConfig({ PORT: '', HOST: ' ', AUTH_SECRET: '' })).toMatchObject({ port: 8787, host: '127.0.0.1', authSecret: undefined })
  })

  it('[CONFIG-2] a bad value throws a ConfigError that names the variable', () => {
    for (const [variable, value] of [
      ['PORT', 'abc'],
      ['PORT', '65536'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['MAX_FRAME_BYTES', '8MiB'],
      ['MAX_UPDATES_PER_SECOND', '0'],
      ['COMPACT_EVERY_UPDATES', '1e3'],
      ['ACCESS_TOKEN_TTL_SECONDS', '99999999999999999999'],
      ['AUTH_SECRET', 'too-short'],
      ['DATABASE_SCHEMA', 'Robert"); DROP TABLE'],
      ['WEBHOOK_MAX_ATTEMPTS', '0'],
      ['WEBHOOK_TIMEOUT_SECONDS', '301'],
    ] as const) {
      const error = configError({ [variable]: value })
      expect(error.variable).toBe(variable)
      expect(error.message).toContain(variable)
    }
    expect(configError({ PORT: 'abc' }).message).toBe('PORT="abc" is not valid: expected an integer from 0 to 65535')
    expect(configError({ ACCESS_TOKEN_TTL_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '600' }).variable).toBe('REFRESH_TOKEN_TTL_SECONDS')
    // Several instances must share one signing secret.
    expect(configError({ REDIS_URL: 'redis://127.0.0.1:6379' }).variable).toBe('AUTH_SECRET')
    expect(loadConfig({ REDIS_URL: 'redis://r', AUTH_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://p/db' })).toMatchObject({
      redisUrl: 'redis://r',
      databaseUrl: 'postgres://p/db',
    })
  })
})
