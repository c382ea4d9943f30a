/**
 * Test databases on Postgres: which server to use, and a fresh schema per test so suites isolate
 * cheaply on one database. Used by the storage contract and the multi-instance suites.
 *
 * The server comes from `QM_TEST_DATABASE_URL`, else `DATABASE_URL` (.ci/run sets the first). A
 * suite that needs Postgres must run in CI: there a missing URL is an error. Elsewhere the suite is
 * left out with one line saying why (not skipped: a skipped test reads as a defect).
 */
import { randomBytes } from 'node:crypto'
import { Client, escapeIdentifier, type QueryResultRow } from 'pg'

/**
 * The test server's URL, or undefined (after printing why) when none is configured outside CI.
 * Throws in CI (`CI` set) without one. `suite` names what is not run, for that line.
 */
export const testDatabaseUrl = (suite = 'the Postgres suites'): string | undefined => {
  const url = process.env.QM_TEST_DATABASE_URL || process.env.DATABASE_URL
  if (url) return url
  if (process.env.CI) {
    throw new Error(`CI is set but neither QM_TEST_DATABASE_URL nor DATABASE_URL is: ${suite} must run in CI (.ci/run exports QM_TEST_DATABASE_URL)`)
  }
  console.warn(`Postgres: ${suite} not run: set QM_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it`)
  return undefined
}

/** Runs one statement on a connection of its own (for setup and inspection, outside any store). */
export const adminQuery = async <R extends QueryResultRow = QueryResultRow>(url: string, text: string, values: readonly unknown[] = []): Promise<R[]> => {
  const client = new Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, [...values])).rows
  } finally {
    await client.end()
  }
}

export interface TestSchema {
  /** `qm_t_<random>`: not created yet; the storage creates it when it opens. */
  readonly name: string
  /** Drops the schema and everything in it (if it exists). Close every store on it first. */
  drop(): Promise<void>
}

/** A schema name no other test uses, and the way to drop it. */
export const freshSchema = (url: string): TestSchema => {
  const name = `qm_t_${randomBytes(6).toString('hex')}`
  return {
    name,
    drop: async () => {
      await adminQuery(url, `DROP SCHEMA IF EXISTS ${escapeIdentifier(name)} CASCADE`)
    },
  }
}
