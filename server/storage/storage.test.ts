/** Runs the one Storage contract against every implementation in this package. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshSchema, testDatabaseUrl } from '../../test/support/postgres.js'
import { storageContract } from './contract.js'
import { createMemoryStorage } from './memory.js'
import { openPostgresStorage } from './postgres.js'
import { openSqliteStorage } from './sqlite.js'
import type { Storage } from './types.js'

storageContract('memory', async () => {
  const storage = createMemoryStorage()
  return { storage, cleanup: () => storage.close() }
})

storageContract(
  'sqlite',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qm-storage-'))
    const handles: Storage[] = [openSqliteStorage(dir)]
    return {
      storage: handles[0] as Storage,
      reopen: async () => {
        const storage = openSqliteStorage(dir)
        handles.push(storage)
        return storage
      },
      cleanup: async () => {
        for (const handle of handles) await handle.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { persistent: true },
)

// Postgres runs when a test server is configured (always in CI); each test gets a schema of its own.
const databaseUrl = testDatabaseUrl('the Postgres storage contract')
if (databaseUrl !== undefined) {
  const url = databaseUrl
  storageContract(
    'postgres',
    async () => {
      const schema = freshSchema(url)
      const handles: Storage[] = [await openPostgresStorage(url, { schema: schema.name })]
      return {
        storage: handles[0] as Storage,
        reopen: async () => {
          const storage = await openPostgresStorage(url, { schema: schema.name })
          handles.push(storage)
          return storage
        },
        cleanup: async () => {
          for (const handle of handles) await handle.close()
          await schema.drop()
        },
      }
    },
    { persistent: true },
  )
}
