/**
 * Child process for the SIGKILL durability test: appends updates to `acme` in `<dataDir>` forever and
 * prints each sequence number once appendUpdate has resolved (that is, once the relay would ack it).
 */
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import { killTestUpdate } from './sqlite-kill-test-update.js'

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error('usage: sqlite-append-until-killed.ts <dataDir>')
const storage = openSqliteStorage(dataDir)
for (let i = 1; ; i++) {
  const seq = await storage.appendUpdate('acme', killTestUpdate(i))
  process.stdout.write(`${seq}\n`)
}
