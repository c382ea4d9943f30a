/**
 * Bugs the torture suites found, and their near relatives, each pinned as a focused test (the suites' own pinned seeds replay
 * the runs that found them; a seed may stop reaching its bug when a generator changes, these do not).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WS from 'ws'
import * as Y from 'yjs'
import { GuardedInbox, applyGuarded } from '../../sync/guard.js'
import { seededRandom } from '../../sync/ids.js'
import { Inventory } from '../../sync/inventory.js'
import { LedgerIndex } from '../../sync/ledger-index.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor } from '../../sync/origin.js'
import { MESSAGE } from '../../sync/protocol.js'
import { ROOT } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { documentState } from '../support/doc-state.js'
import { fork } from '../support/replicas.js'
import { allSaved, eventually, seedInventory, startTestServer, synced } from '../support/server.js'
import type { TestServer } from '../support/server.js'

/** A well-formed update with no structs and one delete range. */
const deleteSetUpdate = (client: number, clock: number, length: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, clock)
  encoding.writeVarUint(e, length)
  return encoding.toUint8Array(e)
}

const syncUpdate = (update: Uint8Array): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.sync)
  encoding.writeVarUint(e, 2)
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

/** A server document with a shelf and a bolt, a good device and a hostile one, each with its own inbox. */
const guardedTrio = () => {
  const server = new Y.Doc()
  const index = new LedgerIndex(server)
  const admin = new Inventory(server, { userId: 'admin', index, random: seededRandom(1), origin: { source: 'server', reason: 'migration' } })
  const shelf = admin.createLocation({ name: 'Shelf' })
  const bolts = admin.createItem({ sku: 'BOLT', name: 'Bolt' })
  const good = fork(server)
  const goodInv = new Inventory(good, { userId: 'good', random: seededRandom(2) })
  const updates: Uint8Array[] = []
  good.on('update', (u: Uint8Array) => updates.push(u))
  const actors = new Map<number, Actor>([[server.clientID, SERVER_ACTOR], [good.clientID, { kind: 'user', userId: 'good', role: 'editor' }]])
  const inbox = (userId: string) =>
    new GuardedInbox(server, index, {
      origin: { source: 'connection', connectionId: userId },
      actorOf: (c) => (c === null ? { kind: 'user', userId, role: 'editor' } : (actors.get(c) ?? { kind: 'user', userId, role: 'editor' })),
    })
  return { server, index, shelf, bolts, good, goodInv, updates, goodInbox: inbox('good'), malloryInbox: inbox('mallory') }
}

describe('bugs the torture suites found (focused regressions)', () => {
  it('[FUZZ-PROTO-2] an update cut short in its delete set changes nothing (Yjs had integrated its structs before it failed)', () => {
    const { server, index, shelf, bolts, goodInbox } = guardedTrio()
    const hostile = fork(server)
    const sent: Uint8Array[] = []
    hostile.on('update', (u: Uint8Array) => sent.push(u))
    const ledger = hostile.getArray<unknown>(ROOT.movements)
    ledger.insert(ledger.length, [{ id: 'mv_cutshort01', item: bolts, location: shelf, delta: 500, kind: 'receive', by: 'somebody-else', at: 1 }])
    const whole = sent[0] as Uint8Array
    const cut = whole.slice(0, whole.length - 1) // the delete set's count is gone; the struct is whole
    const before = JSON.stringify(documentState(server))
    const vector = Y.encodeStateVector(server).join()
    const options = { origin: { source: 'connection' as const, connectionId: 'x' }, actorOf: (): Actor => ({ kind: 'user', userId: 'mallory', role: 'editor' }) }
    expect(() => applyGuarded(server, index, cut, options)).toThrow()
    expect(() => goodInbox.receive(cut)).toThrow()
    expect(goodInbox.heldCount).toBe(0)
    expect(JSON.stringify(documentState(server))).toBe(before)
    expect(Y.encodeStateVector(server).join()).toBe(vector)
  })

  it('[FUZZ-PROTO-3] [VAL-18] a forged deletion of content the server does not have yet waits; the other device\'s next movements stay', () => {
    const { server, shelf, bolts, good, goodInv, updates, goodInbox, malloryInbox } = guardedTrio()
    goodInv.receive({ item: bolts, location: shelf, quantity: 1 })
    expect(goodInbox.receive(updates.shift() as Uint8Array)).toEqual([])
    // Mallory names the good device's next 2^20 clocks in a delete set.
    const forged = deleteSetUpdate(good.clientID, 0, 2 ** 20)
    expect(malloryInbox.receive(forged)).toEqual([])
    expect(malloryInbox.heldCount).toBe(1)
    expect(server.store.pendingDs).toBeNull()
    goodInv.receive({ item: bolts, location: shelf, quantity: 5 })
    goodInv.pick({ item: bolts, location: shelf, quantity: 2 })
    for (const u of updates.splice(0)) expect(goodInbox.receive(u)).toEqual([])
    const ledger = server.getArray<Movement>(ROOT.movements).toArray()
    expect(ledger.map((m) => m.delta)).toEqual([1, 5, -2])
    expect(new Inventory(server, { userId: 'x' }).onHand(bolts)).toBe(4)
  })

  it('[VAL-18] an honest deletion that arrives before the content it deletes waits for it, then applies', () => {
    const { server, bolts, good, updates, goodInbox } = guardedTrio()
    const item = good.getMap<Y.Map<unknown>>(ROOT.items).get(bolts) as Y.Map<unknown>
    item.set('barcode', '4006381333931')
    item.delete('barcode')
    const [set, unset] = updates.splice(0) as [Uint8Array, Uint8Array]
    expect(goodInbox.receive(unset)).toEqual([])
    expect(goodInbox.heldCount).toBe(1)
    expect(goodInbox.receive(set)).toEqual([])
    expect(goodInbox.heldCount).toBe(0)
    expect((server.getMap(ROOT.items).get(bolts) as Y.Map<unknown>).has('barcode')).toBe(false)
    expect(JSON.stringify(documentState(server))).toBe(JSON.stringify(documentState(good)))
  })

  it('[VAL-19] content placed next to another device\'s content the server does not have yet waits, and is judged as its sender\'s when it applies', () => {
    const { server, shelf, bolts, goodInv, updates, goodInbox, malloryInbox } = guardedTrio()
    goodInv.receive({ item: bolts, location: shelf, quantity: 1 })
    const goodMovement = updates.shift() as Uint8Array // not at the server yet
    // Mallory has the good device's movement (a server restored from a backup, or a forged frame)
    // and appends after it a movement that names the good device's user.
    const mallory = fork(goodInv.doc)
    const sent: Uint8Array[] = []
    mallory.on('update', (u: Uint8Array) => sent.push(u))
    const ledger = mallory.getArray<unknown>(ROOT.movements)
    ledger.insert(ledger.length, [{ id: 'mv_placedafter1', item: bolts, location: shelf, delta: 900, kind: 'receive', by: 'good', at: 1 }])
    expect(malloryInbox.receive(sent[0] as Uint8Array)).toEqual([])
    expect(malloryInbox.heldCount).toBe(1)
    // Yjs never holds it: it would integrate inside the good device's change, judged as the good device's.
    expect(server.store.pendingStructs).toBeNull()
    expect(goodInbox.receive(goodMovement)).toEqual([])
    expect(server.getArray<Movement>(ROOT.movements).toArray().map((m) => m.delta)).toEqual([1])
    // Mallory's next update lets the held one go, judged as Mallory's.
    const violations = malloryInbox.receive(new Uint8Array([0, 0]))
    expect(violations.map((v) => v.code)).toEqual(['author-mismatch'])
    expect(malloryInbox.heldCount).toBe(0)
    expect(server.getArray<Movement>(ROOT.movements).toArray().map((m) => m.delta)).toEqual([1])
  })

  describe('through the relay', () => {
    let t: TestServer
    afterEach(async () => {
      await t.stop()
    })

    it('[FUZZ-PROTO-3] a forged delete set on the wire: the good device\'s movements still reach everyone', async () => {
      t = await startTestServer()
      const { admin, shelf, bolts } = await seedInventory(t)
      const watcher = await t.client('edna')
      await synced(watcher)
      const ws = new WS(`${t.server.wsUrl}/acme?token=${encodeURIComponent(await t.token('ed'))}`)
      await new Promise<void>((resolve) => ws.once('message', () => resolve()))
      ws.send(syncUpdate(deleteSetUpdate(admin.doc.clientID, 0, 2 ** 20)))
      await new Promise((r) => setTimeout(r, 100))
      for (let i = 0; i < 5; i++) admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
      await eventually(() => expect(allSaved(admin)).toBe(true))
      await eventually(() => expect(watcher.inv.onHand(bolts)).toBe(15))
      expect(watcher.inv.movements.length).toBe(admin.inv.movements.length)
      ws.close()
    })

    it('[VAL-20] a held update applies when what it waits for arrives from another device, without another message from its sender', async () => {
      t = await startTestServer()
      const { admin, shelf, bolts } = await seedInventory(t)
      const watcher = await t.client('edna')
      await synced(watcher)
      await eventually(() => expect(watcher.inv.onHand(bolts)).toBe(10))
      // A device's movement the server does not have yet (as after the server was restored from a
      // backup), and Ed's device, which has it, appending its own movement after it.
      const good = fork(admin.doc)
      const goodUpdates: Uint8Array[] = []
      good.on('update', (u: Uint8Array) => goodUpdates.push(u))
      new Inventory(good, { userId: t.users['admin']?.id ?? '', random: seededRandom(3) }).receive({ item: bolts, location: shelf, quantity: 1 })
      const ed = fork(good)
      const edUpdates: Uint8Array[] = []
      ed.on('update', (u: Uint8Array) => edUpdates.push(u))
      new Inventory(ed, { userId: t.users['ed']?.id ?? '', random: seededRandom(4) }).receive({ item: bolts, location: shelf, quantity: 2 })
      const open = async (username: string) => {
        const ws = new WS(`${t.server.wsUrl}/acme?ext=1&token=${encodeURIComponent(await t.token(username))}`)
        const durable: Array<Map<number, number>> = []
        ws.on('message', (m: Buffer) => {
          const d = decoding.createDecoder(new Uint8Array(m))
          if (decoding.readVarUint(d) === MESSAGE.durable) durable.push(Y.decodeStateVector(decoding.readVarUint8Array(d)))
        })
        await new Promise<void>((resolve) => ws.once('message', () => resolve()))
        return { ws, durable }
      }
      // Ed's device sends only its own movement, once, and then stays quiet: it waits at the server.
      const edSocket = await open('ed')
      edSocket.ws.send(syncUpdate(edUpdates[0] as Uint8Array))
      await eventually(() => expect(edSocket.durable.length).toBeGreaterThan(0))
      expect(watcher.inv.movements.length).toBe(1)
      // The other device's movement arrives: Ed's applies with it, is stored, relayed and acknowledged.
      const goodSocket = await open('admin')
      goodSocket.ws.send(syncUpdate(goodUpdates[0] as Uint8Array))
      await eventually(() => expect(watcher.inv.onHand(bolts)).toBe(13))
      expect(watcher.inv.movements.toArray().map((m) => m.by).sort()).toEqual([t.users['admin']?.id, t.users['admin']?.id, t.users['ed']?.id].sort())
      await eventually(() => expect(edSocket.durable.some((sv) => (sv.get(ed.clientID) ?? 0) >= Y.getState(ed.store, ed.clientID))).toBe(true))
      edSocket.ws.close()
      goodSocket.ws.close()
    })

    it('[FUZZ-PROTO-2] a frame cut short in its delete set is refused whole: no late joiner ever sees its content', async () => {
      t = await startTestServer()
      const { admin, shelf, bolts } = await seedInventory(t)
      const hostile = fork(admin.doc)
      const sent: Uint8Array[] = []
      hostile.on('update', (u: Uint8Array) => sent.push(u))
      const ledger = hostile.getArray<unknown>(ROOT.movements)
      ledger.insert(ledger.length, [{ id: 'mv_cutshort02', item: bolts, location: shelf, delta: 500, kind: 'receive', by: t.users['admin']?.id, at: 1 }])
      const whole = sent[0] as Uint8Array
      const ws = new WS(`${t.server.wsUrl}/acme?ext=1&token=${encodeURIComponent(await t.token('ed'))}`)
      const types: number[] = []
      ws.on('message', (m: Buffer) => types.push(m[0] ?? -1))
      await eventually(() => expect(types.length).toBeGreaterThan(0))
      ws.send(syncUpdate(whole.slice(0, whole.length - 1)))
      await eventually(() => expect(types).toContain(MESSAGE.rejected))
      ws.close()
      const late = await t.client('edna')
      await synced(late)
      await eventually(() => expect(late.inv.onHand(bolts)).toBe(10))
      expect(late.inv.movements.toArray().map((m) => m.id)).not.toContain('mv_cutshort02')
    })
  })
})
