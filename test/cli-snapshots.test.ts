/**
 * [CLI-9] `qm snapshot list|create|show|diff|restore` are correct whether or not the server runs:
 * without one they work on the store; with one, a restore goes through it so every device sees it.
 * [LOCK-1] A second server on the same DATA_DIR refuses to start.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../sync/ids.js'
import { Inventory } from '../sync/inventory.js'
import { hashPassword } from '../server/auth/passwords.js'
import { runCli } from '../server/cli.js'
import type { CliIo } from '../server/cli.js'
import { openSqliteStorage } from '../server/storage/sqlite.js'
import { providerFor, startServerProcess } from './support/process.js'
import type { ServerProcess } from './support/process.js'
import { SECRET, eventually } from './support/server.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const cli = async (dataDir: string, ...argv: string[]) => {
  let out = ''
  let err = ''
  const io: CliIo = {
    env: { DATA_DIR: dataDir, AUTH_SECRET: SECRET },
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    stdin: { isTTY: true, readAll: async () => '' },
  }
  const code = await runCli(argv, io)
  return { code, out, err }
}

/** A data dir with tenant acme, an admin, and a document with two items at one location. */
const seeded = async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qm-cli-snap-'))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const storage = openSqliteStorage(dataDir)
  await storage.createTenant({ id: 'acme', name: 'Acme' })
  const admin = await storage.createUser({ tenant: 'acme', username: 'boss', name: 'Boss', role: 'admin', passwordHash: await hashPassword('a long enough password') })
  const doc = new Y.Doc()
  const inv = new Inventory(doc, { userId: admin.id, random: seededRandom(5) })
  const shelf = inv.createLocation({ name: 'Shelf' })
  const bolts = inv.createItem({ sku: 'BOLT', name: 'Bolt' })
  inv.receive({ item: bolts, location: shelf, quantity: 12 })
  await storage.appendUpdate('acme', Y.encodeStateAsUpdate(doc))
  await storage.close()
  return { dataDir, admin, doc, inv, shelf, bolts }
}

const storedInventory = async (dataDir: string) => {
  const storage = openSqliteStorage(dataDir)
  const stored = await storage.loadDocument('acme')
  await storage.close()
  const doc = new Y.Doc()
  if (stored.state) Y.applyUpdate(doc, stored.state)
  for (const u of stored.updates) Y.applyUpdate(doc, u)
  return new Inventory(doc, { userId: 'reader' })
}

describe('qm snapshot', () => {
  it('[CLI-9] without a server: create, list, show, diff, restore (only with --yes), and undo', async () => {
    const { dataDir, doc, inv, shelf, bolts } = await seeded()
    const created = await cli(dataDir, 'snapshot', 'create', 'acme', '--reason', 'nightly', '--json')
    expect(created.code).toBe(0)
    const id = (JSON.parse(created.out) as { id: string }).id

    // Change the stored document: a big pick and a rename.
    const before = Y.encodeStateVector(doc)
    inv.pick({ item: bolts, location: shelf, quantity: 10 })
    inv.updateItem(bolts, { name: 'Bolt (oops)' })
    const storage = openSqliteStorage(dataDir)
    await storage.appendUpdate('acme', Y.encodeStateAsUpdate(doc, before))
    await storage.close()

    const list = await cli(dataDir, 'snapshot', 'list', 'acme')
    expect(list.out).toContain(id)
    expect(list.out).toContain('nightly')
    const shown = await cli(dataDir, 'snapshot', 'show', 'acme', id)
    expect(shown.out).toMatch(/BOLT\s+Bolt\s+12\s+Shelf: 12/)
    const diff = await cli(dataDir, 'snapshot', 'diff', 'acme', id)
    expect(diff.out).toContain('BOLT at Shelf: 2 → 12 (+10)')
    expect(diff.out).toContain('"Bolt (oops)" → "Bolt"')

    const unconfirmed = await cli(dataDir, 'snapshot', 'restore', 'acme', id)
    expect(unconfirmed.code).toBe(1)
    expect(unconfirmed.err).toContain('--yes')
    expect((await storedInventory(dataDir)).onHand(bolts)).toBe(2)

    const restored = await cli(dataDir, 'snapshot', 'restore', 'acme', id, '--yes', '--json')
    expect(restored.code).toBe(0)
    const result = JSON.parse(restored.out) as { preRestore: { id: string } }
    const after = await storedInventory(dataDir)
    expect(after.item(bolts)).toMatchObject({ onHand: 12, name: 'Bolt' })

    expect((await cli(dataDir, 'snapshot', 'restore', 'acme', result.preRestore.id, '--yes')).code).toBe(0)
    expect((await storedInventory(dataDir)).item(bolts)).toMatchObject({ onHand: 2, name: 'Bolt (oops)' })

    expect((await cli(dataDir, 'snapshot', 'show', 'acme', 'sn_missing')).code).toBe(1)
    expect((await cli(dataDir, 'snapshot', 'restore', 'nowhere', id, '--yes')).code).not.toBe(0)
    expect((await cli(dataDir, 'snapshot', 'restore', 'acme', id, '--yes', '--as', 'nobody')).code).toBe(2)
  })

  it('[CLI-9] [LOCK-1] with a server running: a restore goes through it and a connected device sees it; a second server refuses the data dir', async () => {
    const { dataDir, admin, bolts, shelf } = await seeded()
    const server: ServerProcess = await startServerProcess(dataDir, 0)
    cleanups.push(() => {
      server.child.kill('SIGKILL')
    })
    const provider = await providerFor(server.port, admin)
    cleanups.push(() => provider.destroy())
    const inv = new Inventory(provider.doc, { userId: admin.id })
    await eventually(() => expect(inv.onHand(bolts)).toBe(12))
    const id = (JSON.parse((await cli(dataDir, 'snapshot', 'create', 'acme', '--json')).out) as { id: string }).id
    inv.pick({ item: bolts, location: shelf, quantity: 5 })
    await eventually(async () => expect((await storedInventory(dataDir)).onHand(bolts)).toBe(7))

    const restored = await cli(dataDir, 'snapshot', 'restore', 'acme', id, '--yes')
    expect(restored.err).toBe('')
    expect(restored.out).toContain('through the running server')
    await eventually(() => expect(inv.onHand(bolts)).toBe(12))

    await expect(startServerProcess(dataDir, 0)).rejects.toThrow(/another Quartermaster server/)
  })
})
