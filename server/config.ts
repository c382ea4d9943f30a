/**
 * Server configuration from environment variables, read once at startup into a frozen object.
 * Every field documents its default and why the setting exists. An empty variable counts as
 * unset (env files often carry `PORT=`); a value that does not parse throws a ConfigError naming
 * the variable, so a typo stops the server instead of silently running with a default.
 */
import { resolve } from 'node:path'
import { MIN_AUTH_SECRET_LENGTH } from './auth/secret.js'
import { DEFAULT_LIMITS } from './relay/types.js'
import type { RelayLimits } from './relay/types.js'

export type Env = Readonly<Record<string, string | undefined>>

export interface Config {
  /**
   * Interface to listen on (env HOST).
   * @default '127.0.0.1' — not exposed until someone decides to; behind a proxy, keep it local.
   */
  readonly host: string
  /**
   * TCP port (env PORT); 0 picks a free port (tests).
   * @default 8787
   */
  readonly port: number
  /**
   * Where the SQLite database and the generated auth secret live (env DATA_DIR), made absolute
   * against the working directory at load time.
   * @default './data'
   */
  readonly dataDir: string
  /**
   * Token signing secret, at least 32 characters (env AUTH_SECRET). Needed when several instances
   * must accept each other's tokens.
   * @default undefined — then `${dataDir}/auth-secret` is read or generated (server/auth/secret.ts).
   */
  readonly authSecret: string | undefined
  /**
   * Lifetime of an access token in seconds (env ACCESS_TOKEN_TTL_SECONDS).
   * @default 900 (15 minutes) — a role change or removal takes effect within this time.
   */
  readonly accessTokenTtlSeconds: number
  /**
   * Lifetime of a refresh token in seconds (env REFRESH_TOKEN_TTL_SECONDS).
   * @default 2592000 (30 days) — a device may stay offline for weeks and still resume its session.
   */
  readonly refreshTokenTtlSeconds: number
  readonly relay: RelayLimits
  /**
   * PostgreSQL connection URL (env DATABASE_URL); unset = SQLite in DATA_DIR.
   * @default undefined — the embedded default needs no database server.
   */
  readonly databaseUrl: string | undefined
  /** Postgres schema for Quartermaster's tables (env DATABASE_SCHEMA). @default 'public' */
  readonly databaseSchema: string
  /**
   * Redis URL (env REDIS_URL): fan-out between server instances and one writer per tenant for
   * server duties. Unset = one instance. With it, AUTH_SECRET must be set (every instance must
   * accept every other's tokens).
   * @default undefined
   */
  readonly redisUrl: string | undefined
  /** Prefix of Redis keys and channels (env REDIS_PREFIX): several deployments may share a Redis. @default 'qm:' */
  readonly redisPrefix: string
  readonly snapshots: {
    /**
     * Minutes between scheduled snapshots of each changed tenant (env SNAPSHOT_INTERVAL_MINUTES); 0 = off.
     * @default 60 — an admin can undo a bad hour without keeping thousands of copies.
     */
    readonly intervalMinutes: number
    /**
     * Scheduled snapshots kept per tenant (env SNAPSHOT_KEEP_SCHEDULED).
     * @default 168 — a week of hourly snapshots.
     */
    readonly keepScheduled: number
    /**
     * Days manual and pre-restore snapshots are kept (env SNAPSHOT_KEEP_DAYS).
     * @default 90 — long enough to notice a mistake at month's end and undo a restore.
     */
    readonly keepDays: number
  }
  readonly webhooks: {
    /**
     * Attempts per webhook delivery, the first included (env WEBHOOK_MAX_ATTEMPTS).
     * @default 10 — with the default waits, a receiver may be down for about 40 minutes.
     */
    readonly maxAttempts: number
    /**
     * Seconds before the second attempt; the wait doubles after each failure, up to an hour
     * (env WEBHOOK_RETRY_BASE_SECONDS).
     * @default 5 — a receiver that restarts gets its delivery within seconds.
     */
    readonly retryBaseSeconds: number
    /**
     * Seconds a receiver has to answer before the attempt counts as failed (env WEBHOOK_TIMEOUT_SECONDS).
     * @default 10 — a receiver should queue the work and answer at once.
     */
    readonly timeoutSeconds: number
  }
}

export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 8787
export const DEFAULT_DATA_DIR = './data'
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    message: string,
  ) {
    super(message)
  }
}

/** The variable's value, or undefined when it is unset or empty. */
const read = (env: Env, name: string): string | undefined => {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

const integer = (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`
    throw new ConfigError(name, `${name}=${JSON.stringify(env[name])} is not valid: expected ${range}`)
  }
  return value
}

const identifier = (env: Env, name: string, fallback: string): string => {
  const raw = read(env, name) ?? fallback
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError(name, `${name}=${JSON.stringify(raw)} is not valid: lowercase letters, digits and _`)
  return raw
}

/** DATA_DIR as an absolute path; the CLI reads it without the rest of the configuration. */
export const resolveDataDir = (env: Env = process.env): string => resolve(read(env, 'DATA_DIR') ?? DEFAULT_DATA_DIR)

export const loadConfig = (env: Env = process.env): Config => {
  const authSecret = env.AUTH_SECRET === undefined || env.AUTH_SECRET === '' ? undefined : env.AUTH_SECRET
  if (authSecret !== undefined && authSecret.length < MIN_AUTH_SECRET_LENGTH) {
    throw new ConfigError(
      'AUTH_SECRET',
      `AUTH_SECRET has ${authSecret.length} characters; use at least ${MIN_AUTH_SECRET_LENGTH} (e.g. openssl rand -base64 32)`,
    )
  }
  // Each limit is documented, with its default and why it exists, on RelayLimits (server/relay/types.ts).
  const d = DEFAULT_LIMITS
  const relay: RelayLimits = Object.freeze({
    maxFrameBytes: integer(env, 'MAX_FRAME_BYTES', d.maxFrameBytes, 1024),
    maxUnauthenticatedBytes: integer(env, 'MAX_UNAUTHENTICATED_BYTES', d.maxUnauthenticatedBytes, 256),
    updatesPerSecond: integer(env, 'MAX_UPDATES_PER_SECOND', d.updatesPerSecond, 1),
    updateBurst: integer(env, 'UPDATE_BURST', d.updateBurst, 1),
    maxDocumentBytes: integer(env, 'MAX_DOCUMENT_BYTES', d.maxDocumentBytes, 1024),
    maxConnectionsPerUser: integer(env, 'MAX_CONNECTIONS_PER_USER', d.maxConnectionsPerUser, 1),
    maxAwarenessStateBytes: integer(env, 'MAX_AWARENESS_STATE_BYTES', d.maxAwarenessStateBytes, 256),
    idleUnloadMs: integer(env, 'IDLE_UNLOAD_SECONDS', d.idleUnloadMs / 1000, 0) * 1000,
    compactEveryUpdates: integer(env, 'COMPACT_EVERY_UPDATES', d.compactEveryUpdates, 1),
  })
  const redisUrl = read(env, 'REDIS_URL')
  if (redisUrl !== undefined && authSecret === undefined) {
    throw new ConfigError('AUTH_SECRET', 'REDIS_URL runs several instances: set AUTH_SECRET, the same on every instance, so each accepts the tokens of the others')
  }
  const accessTokenTtlSeconds = integer(env, 'ACCESS_TOKEN_TTL_SECONDS', DEFAULT_ACCESS_TOKEN_TTL_SECONDS, 10)
  const refreshTokenTtlSeconds = integer(env, 'REFRESH_TOKEN_TTL_SECONDS', DEFAULT_REFRESH_TOKEN_TTL_SECONDS, 60)
  if (refreshTokenTtlSeconds <= accessTokenTtlSeconds) {
    throw new ConfigError(
      'REFRESH_TOKEN_TTL_SECONDS',
      `REFRESH_TOKEN_TTL_SECONDS (${refreshTokenTtlSeconds}) must be longer than ACCESS_TOKEN_TTL_SECONDS (${accessTokenTtlSeconds})`,
    )
  }
  return Object.freeze({
    host: read(env, 'HOST') ?? DEFAULT_HOST,
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65535),
    dataDir: resolveDataDir(env),
    authSecret,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    relay,
    databaseUrl: read(env, 'DATABASE_URL'),
    databaseSchema: identifier(env, 'DATABASE_SCHEMA', 'public'),
    redisUrl,
    redisPrefix: read(env, 'REDIS_PREFIX') ?? 'qm:',
    snapshots: Object.freeze({
      intervalMinutes: integer(env, 'SNAPSHOT_INTERVAL_MINUTES', 60, 0),
      keepScheduled: integer(env, 'SNAPSHOT_KEEP_SCHEDULED', 168, 1),
      keepDays: integer(env, 'SNAPSHOT_KEEP_DAYS', 90, 1),
    }),
    webhooks: Object.freeze({
      maxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
      retryBaseSeconds: integer(env, 'WEBHOOK_RETRY_BASE_SECONDS', 5, 1, 3600),
      timeoutSeconds: integer(env, 'WEBHOOK_TIMEOUT_SECONDS', 10, 1, 300),
    }),
  })
}
