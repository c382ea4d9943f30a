/**
 * The connection side of the Postgres store, shared by every Postgres module (documents and
 * directory, snapshots and audit, later alerts): the pool, the per-connection settings, driver
 * error translation, and the `run` / `transaction` helpers every statement goes through.
 */
import { DatabaseError, escapeIdentifier, Pool, types, type CustomTypesConfig, type PoolClient, type QueryResult, type QueryResultRow } from 'pg'
import { StorageError } from './types.js'
import { storageClosed } from './validate.js'

/** A schema name we create and put on the search path: a plain lowercase identifier. */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/

export const checkSchemaName = (schema: string): void => {
  if (!SCHEMA_NAME_PATTERN.test(schema) || schema.startsWith('pg_')) {
    throw new StorageError(
      'invalid',
      `invalid Postgres schema ${JSON.stringify(schema)}: use 1–63 lowercase letters, digits and '_', not starting with a digit or 'pg_'`,
    )
  }
}

/** Something statements run on: the pool (each statement its own transaction) or a transaction's connection. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>>
}

export type TransactionMode = 'read committed' | 'repeatable read read only'

export interface PostgresHelpers {
  /**
   * Runs one operation on the pool with the store open, translating driver errors. A statement
   * sent through `db` commits on its own before its promise resolves.
   */
  run<T>(operation: string, body: (db: Queryable) => Promise<T>): Promise<T>
  /**
   * Runs `body` in one transaction on one connection: BEGIN, body, COMMIT (ROLLBACK if it throws).
   * `body` awaits nothing but the queries of that transaction.
   */
  transaction<T>(operation: string, body: (tx: Queryable) => Promise<T>, mode?: TransactionMode): Promise<T>
  now(): number
}

/** SQLSTATE of a failure the server reported, e.g. '23505'; undefined for network and client errors. */
export const sqlState = (error: unknown): string | undefined => (error instanceof DatabaseError ? error.code : undefined)
export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505'
/** In this schema every foreign key points at a tenant (directly or through its document). */
export const isForeignKeyViolation = (error: unknown): boolean => sqlState(error) === '23503'

/** Turns anything the driver throws into a StorageError; our own StorageErrors pass through. */
export const asStorageError = (operation: string, error: unknown): StorageError => {
  if (error instanceof StorageError) return error
  const state = sqlState(error)
  const detail = error instanceof Error ? error.message : String(error)
  // Class 23: integrity constraint violation (the SQLite store calls these SQLITE_CONSTRAINT).
  if (state?.startsWith('23')) return new StorageError('conflict', `${operation} failed: ${detail}`, { cause: error })
  // Class 22: data the database cannot hold, e.g. a NUL character in text or in JSON.
  if (state?.startsWith('22')) return new StorageError('invalid', `${operation} failed: ${detail}`, { cause: error })
  return new StorageError('unavailable', `${operation} failed: ${detail}`, { cause: error })
}

/**
 * int8 (bigint) columns come back as JS numbers, not strings: every bigint we store (ms times,
 * sequence numbers, byte counts, client ids, audit ids) is a safe integer. One that is not fails
 * the query rather than silently losing precision. Per pool, not pg's global type registry.
 */
const parseInt8 = (text: string): number => {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is outside the safe integer range`)
  return value
}
const typeParsers: CustomTypesConfig = {
  // pg-types declares getTypeParser with overloads per format; this one answers both formats the same way.
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8 && format !== 'binary' ? parseInt8 : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
}

export interface PoolSettings {
  readonly url: string
  readonly schema: string
  readonly poolSize: number
  readonly connectTimeoutMs: number
  readonly applicationName: string
  /** Errors of idle connections (the server restarted, the network dropped); the pool replaces them. */
  readonly onPoolError: (error: Error) => void
}

export const createPool = (settings: PoolSettings): Pool => {
  const pool = new Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    application_name: settings.applicationName,
    types: typeParsers,
    // Set on every new connection before the pool hands it out (pg-pool awaits this hook; a failure
    // fails the caller). A hook rather than the startup `options`, so that `options` in the URL
    // cannot override it and poolers that drop startup options still get it.
    onConnect: async (client) => {
      await client.query(`SET search_path TO ${escapeIdentifier(settings.schema)}; SET synchronous_commit TO on`)
    },
  })
  pool.on('error', settings.onPoolError)
  return pool
}

/** The helpers over one pool; `isClosed` is checked before every operation. */
export const poolHelpers = (pool: Pool, kind: string, isClosed: () => boolean, now: () => number): PostgresHelpers => {
  const onPool: Queryable = { query: (text, values) => pool.query(text, values === undefined ? undefined : [...values]) }

  const run = async <T>(operation: string, body: (db: Queryable) => Promise<T>): Promise<T> => {
    if (isClosed()) throw storageClosed(kind)
    try {
      return await body(onPool)
    } catch (error) {
      throw asStorageError(operation, error)
    }
  }

  const transaction = async <T>(
    operation: string,
    body: (tx: Queryable) => Promise<T>,
    mode: TransactionMode = 'read committed',
  ): Promise<T> =>
    run(operation, async () => {
      const client: PoolClient = await pool.connect()
      const tx: Queryable = { query: (text, values) => client.query(text, values === undefined ? undefined : [...values]) }
      // Set when the connection can no longer be trusted (ROLLBACK failed): release destroys it.
      let broken: Error | undefined
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${mode.toUpperCase()}`)
        const result = await body(tx)
        await client.query('COMMIT')
        return result
      } catch (error) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackError) {
          // The first error is the one the caller needs; this one retires the connection.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
        }
        throw error
      } finally {
        client.release(broken)
      }
    })

  return { run, transaction, now }
}
