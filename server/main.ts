/**
 * `npm start`: Quartermaster on its embedded defaults (SQLite in DATA_DIR), configured from the
 * environment (server/config.ts): DATABASE_URL for Postgres, REDIS_URL for several instances.
 * SIGTERM or SIGINT drains the relay and closes the store.
 */
import { mkdirSync } from 'node:fs'
import { loadAuthSecret } from './auth/secret.js'
import { bootstrapFirstAdmin } from './bootstrap.js'
import { ConfigError, loadConfig } from './config.js'
import { DataDirInUse, lockDataDir } from './data-dir-lock.js'
import { startServer } from './server.js'
import type { Fanout } from './scale/fanout.js'
import type { DutyLeases } from './scale/leases.js'
import { openSqliteStorage } from './storage/sqlite.js'

const main = async (): Promise<void> => {
  const config = loadConfig()
  mkdirSync(config.dataDir, { recursive: true })
  // SQLite in DATA_DIR belongs to one server; Postgres is shared by design (several instances).
  const lock = config.databaseUrl === undefined ? lockDataDir(config.dataDir) : null
  // pg and ioredis are loaded only when configured: one instance on SQLite never needs them, and
  // they would cost its memory (docs/OPERATIONS.md, "Memory").
  const storage = config.databaseUrl === undefined
    ? openSqliteStorage(config.dataDir)
    : await (await import('./storage/postgres.js')).openPostgresStorage(config.databaseUrl, { schema: config.databaseSchema })
  const { secret } = await loadAuthSecret({ authSecret: config.authSecret, dataDir: config.dataDir })
  const first = await bootstrapFirstAdmin(storage)
  let fanout: Fanout | undefined
  let leases: DutyLeases | undefined
  if (config.redisUrl !== undefined) {
    const [{ RedisFanout }, { RedisLeases }] = await Promise.all([import('./scale/redis-fanout.js'), import('./scale/redis-leases.js')])
    fanout = new RedisFanout({ url: config.redisUrl, prefix: config.redisPrefix })
    leases = new RedisLeases({ url: config.redisUrl, prefix: config.redisPrefix, instanceId: fanout.instanceId })
  }
  const server = await startServer({
    storage,
    secret,
    ...(fanout ? { fanout } : {}),
    ...(leases ? { leases } : {}),
    host: config.host,
    port: config.port,
    limits: config.relay,
    snapshots: {
      intervalMs: config.snapshots.intervalMinutes * 60_000,
      retention: { keepScheduled: config.snapshots.keepScheduled, keepDays: config.snapshots.keepDays },
    },
    tokenTtl: { accessSeconds: config.accessTokenTtlSeconds, refreshSeconds: config.refreshTokenTtlSeconds },
    alerts: {
      webhooks: {
        maxAttempts: config.webhooks.maxAttempts,
        baseDelayMs: config.webhooks.retryBaseSeconds * 1000,
        timeoutMs: config.webhooks.timeoutSeconds * 1000,
      },
    },
  })
  const where = config.databaseUrl === undefined ? `in ${config.dataDir}` : `schema ${config.databaseSchema}`
  const scale = fanout ? `, instance ${fanout.instanceId} with Redis fan-out` : ''
  console.log(`Quartermaster is listening on ${server.url} (storage: ${storage.kind} ${where}${scale})`)
  console.log(`  sync: ${server.wsUrl}/<tenant>   health: ${server.url}/api/health`)
  if (first) {
    console.log('')
    console.log('  First start: created tenant "%s" with user "%s" and this password (shown only once):', first.tenant, first.username)
    console.log(`      ${first.password}`)
    console.log('  Change it with: npx qm user password %s %s', first.tenant, first.username)
    console.log('')
  }
  lock?.publish(server.url)
  // A line for programs that start the server (tests, scripts): the port it really listens on.
  console.log(`QM_LISTENING ${JSON.stringify({ url: server.url, port: server.port })}`)

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: saving and closing connections…`)
    void (async () => {
      await server.close()
      await storage.close()
      lock?.release()
      process.exit(0)
    })().catch((err: unknown) => {
      console.error('shutdown failed', err)
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`Configuration error: ${err.message}`)
  else if (err instanceof DataDirInUse) console.error(err.message)
  else console.error(err)
  process.exit(1)
})
