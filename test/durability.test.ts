/**
 * [DUR-1] A server process killed with SIGKILL in the middle of writes loses nothing it had
 * acknowledged as durable; after a restart, clients resend the rest and everyone converges.
 * [DUR-2] SIGTERM stores everything queued and closes connections with 1012.
 *
 * The server runs as a real child process (`node --import tsx server/main.ts`) on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { Inventory } from '../sync/inventory.js'
import { MESSAGE, readDurable } from '../sync/protocol.js'
import { ROOT } from '../sync/schema.js'
import type { Movement } from '../sync/schema.js'
import { hashPassword } from '../server/auth/passwords.js'
import { openSqliteStorage } from '../server/storage/sqlite.js'
import type { UserRecord } from '../server/storage/types.js'
import { providerFor, startServerProcess as startProcess } from './support/process.js'
import { eventually } from './support/server.js'

interface Writer {
  doc: Y.Doc
  inv: Inventory
  provider: WebsocketProvider
  /** Movement ids by the client clock right after each was written. */
  written: Array<{ clock: number; id: string }>
  acknowledged: Set<string>
}

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('durability', () => {
  it('[DUR-1] SIGKILL mid-write loses nothing acknowledged; clients resend the rest and converge', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'qm-kill-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const setup = openSqliteStorage(dataDir)
    await setup.createTenant({ id: 'acme', name: 'Acme' })
    const hash = await hashPassword('a long enough password')
    const users: UserRecord[] = []
    for (const name of ['w1', 'w2', 'w3']) users.push(await setup.createUser({ tenant: 'acme', username: name, name, role: 'editor', passwordHash: hash }))
    await setup.close()

    let server = await startProcess(dataDir, 0)
    const port = server.port
    cleanups.push(() => {
      server.child.kill('SIGKILL')
    })

    // The first writer creates the catalogue; everyone syncs it.
    const writers: Writer[] = []
    for (const user of users) {
      const provider = await providerFor(port, user, { ext: true })
      const doc = provider.doc
      const w: Writer = { doc, provider, inv: new Inventory(doc, { userId: user.id }), written: [], acknowledged: new Set() }
      provider.messageHandlers[MESSAGE.durable] = (_e, d: decoding.Decoder) => {
        const stored = Y.decodeStateVector(readDurable(d)).get(doc.clientID) ?? 0
        for (const { clock, id } of w.written) if (clock <= stored) w.acknowledged.add(id)
      }
      writers.push(w)
      cleanups.push(() => provider.destroy())
    }
    await eventually(() => expect(writers.every((w) => w.provider.synced)).toBe(true))
    const [first] = writers as [Writer]
    const shelf = first.inv.createLocation({ name: 'Shelf' })
    const bolts = first.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
    await eventually(() => expect(writers.every((w) => w.inv.onHand(bolts) === 0 && w.inv.location(shelf))).toBeTruthy())

    // Everyone writes as fast as the event loop lets them; the server is killed in the middle.
    let writing = true
    const write = (w: Writer) => {
      if (!writing) return
      const m = w.inv.receive({ item: bolts, location: shelf, quantity: 1 })
      w.written.push({ clock: Y.decodeStateVector(Y.encodeStateVector(w.doc)).get(w.doc.clientID) ?? 0, id: m.id })
      setTimeout(() => write(w), 2)
    }
    writers.forEach(write)
    await eventually(() => expect(writers.every((w) => w.acknowledged.size >= 20)).toBe(true), 20_000)
    server.child.kill('SIGKILL')
    await new Promise((r) => server.child.once('exit', r))
    writing = false
    const acknowledged = writers.flatMap((w) => [...w.acknowledged])
    const written = writers.flatMap((w) => w.written.map((x) => x.id))
    expect(acknowledged.length).toBeGreaterThan(0)
    expect(written.length).toBeGreaterThan(acknowledged.length) // some were in flight at the kill

    // What the store holds after the kill: every acknowledged movement.
    const afterKill = openSqliteStorage(dataDir)
    const stored = await afterKill.loadDocument('acme')
    await afterKill.close()
    const check = new Y.Doc()
    if (stored.state) Y.applyUpdate(check, stored.state)
    for (const u of stored.updates) Y.applyUpdate(check, u)
    const storedIds = new Set(check.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id))
    const lost = acknowledged.filter((id) => !storedIds.has(id))
    expect(lost).toEqual([])

    // Restart on the same port: the providers reconnect, resend the rest, and all converge.
    server = await startProcess(dataDir, port)
    await eventually(() => {
      for (const w of writers) expect(w.inv.movementsOf(bolts).length).toBe(written.length)
    }, 30_000)
    const ledgers = writers.map((w) => w.inv.movementsOf(bolts).map((m) => m.id).sort())
    for (const l of ledgers) expect(l).toEqual([...written].sort())
    for (const w of writers) expect(w.inv.onHand(bolts, shelf)).toBe(written.length)
  })

  it('[DUR-2] SIGTERM stores what was queued and closes connections with 1012', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'qm-term-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const setup = openSqliteStorage(dataDir)
    await setup.createTenant({ id: 'acme', name: 'Acme' })
    const user = await setup.createUser({ tenant: 'acme', username: 'w', name: 'W', role: 'editor', passwordHash: await hashPassword('a long enough password') })
    await setup.close()
    const server = await startProcess(dataDir, 0)
    cleanups.push(() => {
      server.child.kill('SIGKILL')
    })
    const provider = await providerFor(server.port, user)
    const doc = provider.doc
    cleanups.push(() => provider.destroy())
    const closes: number[] = []
    provider.on('connection-close', (e) => {
      if (e) closes.push(e.code)
    })
    await eventually(() => expect(provider.synced).toBe(true))
    const inv = new Inventory(doc, { userId: user.id })
    const loc = inv.createLocation({ name: 'Dock' })
    const item = inv.createItem({ sku: 'NUT', name: 'Nut' })
    inv.receive({ item, location: loc, quantity: 3 })
    await new Promise((r) => setTimeout(r, 300))
    provider.shouldConnect = false
    server.child.kill('SIGTERM')
    const exitCode = await new Promise((r) => server.child.once('exit', r))
    expect(exitCode).toBe(0)
    expect(closes).toContain(1012)
    const after = openSqliteStorage(dataDir)
    const stored = await after.loadDocument('acme')
    await after.close()
    expect(stored.updates.length).toBe(0) // compacted on the way down
    const check = new Y.Doc()
    if (stored.state) Y.applyUpdate(check, stored.state)
    expect(new Inventory(check, { userId: 'x' }).onHand(item)).toBe(3)
  })
})
