/**
 * Child process for the Postgres SIGKILL durability test: appends updates to `acme` in `<schema>`
 * forever, four at a time, and prints `<seq> <k>` for each once appendUpdate has resolved (that is,
 * once the relay would acknowledge it); `k` names the bytes (killTestUpdate(k)).
 */
import { openPostgresStorage } from '../../server/storage/postgres.js'
import { killTestUpdate } from './sqlite-kill-test-update.js'

const [url, schema] = process.argv.slice(2)
if (url === undefined || schema === undefined) throw new Error('usage: postgres-append-until-killed.ts <url> <schema>')
const storage = await openPostgresStorage(url, { schema })
let next = 1
const writer = async (): Promise<never> => {
  for (;;) {
    const k = next++
    const seq = await storage.appendUpdate('acme', killTestUpdate(k))
    process.stdout.write(`${seq} ${k}\n`)
  }
}
await Promise.all([writer(), writer(), writer(), writer()])
