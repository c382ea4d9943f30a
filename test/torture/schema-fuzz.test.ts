/**
 * [FUZZ-SCHEMA-1] Through a real server and stock y-websocket providers: a hostile editor (and now
 * and then a viewer) sends random, well-formed Yjs updates that break the schema — wrong types,
 * foreign keys to nothing, ledger deletions and "edits", spoofed authors, unpaired transfers,
 * writes to server-only parts, unknown fields and roots, nested types, removed entities — mixed
 * with valid work, while an honest editor works at the same time. Every state any other device
 * ever holds is valid (checked after every update it receives), no ledger record it has seen ever
 * disappears, the honest editor is never refused, and after each round the sender holds exactly the
 * server's document, which is valid.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newId, seededRandom } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'
import { InventoryError } from '../../sync/inventory.js'
import { SERVER_ACTOR } from '../../sync/origin.js'
import type { Actor } from '../../sync/origin.js'
import { ROOT, baselineKey } from '../../sync/schema.js'
import type { Movement } from '../../sync/schema.js'
import { documentState, stateDiff, stateProblems } from '../support/doc-state.js'
import { Rng } from '../support/fuzz.js'
import { allSaved, eventually, startTestServer, synced } from '../support/server.js'
import type { TestClient, TestServer } from '../support/server.js'
import { SCALE, timeoutFor, tortureSeeds } from '../support/torture.js'

let t: TestServer | null = null
afterEach(async () => {
  await t?.stop()
  t = null
})

type AnyMap = Y.Map<unknown>

interface Watch {
  readonly name: string
  readonly client: TestClient
  /** Ledger records this device has ever held: none may disappear. */
  readonly seen: Set<string>
  updates: number
  problems: string[]
}

/** One hostile change on `doc`, by `userId`; returns which kind and what it did. */
const hostileAct = (rng: Rng, doc: Y.Doc, userId: string, others: readonly string[], random: RandomSource): [string, string] => {
  const act = pickAct(rng)
  return [act, hostileChange(act, rng, doc, userId, others, random)]
}

const pickAct = (rng: Rng) =>
  rng.weighted([
    [4, 'wrong-type'], [3, 'dangling-item'], [2, 'dangling-location'], [2, 'dangling-undo'], [4, 'delete-records'], [2, 'edit-record'],
    [4, 'spoofed-author'], [2, 'unpaired-transfer'], [3, 'server-roots'], [2, 'restore-kind'], [2, 'unknown-field'], [2, 'unknown-root'],
    [1, 'nested-type'], [2, 'remove-entity'], [1, 'replace-entity'], [2, 'bad-new-item'], [2, 'bad-record-shape'], [1, 'count-mismatch'],
  ] as const)

const hostileChange = (act: ReturnType<typeof pickAct>, rng: Rng, doc: Y.Doc, userId: string, others: readonly string[], random: RandomSource): string => {
  const items = doc.getMap<AnyMap>(ROOT.items)
  const locations = doc.getMap<AnyMap>(ROOT.locations)
  const ledger = doc.getArray<unknown>(ROOT.movements)
  const itemIds = [...items.keys()]
  const locationIds = [...locations.keys()]
  const item = itemIds.length > 0 ? rng.pick(itemIds) : 'it_none'
  const location = locationIds.length > 0 ? rng.pick(locationIds) : 'loc_none'
  const record = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({ id: newId('mv', random), item, location, delta: 2, kind: 'receive', by: userId, at: Date.now(), ...fields })
  const append = (...records: unknown[]) => ledger.insert(ledger.length, records)
  switch (act) {
    case 'wrong-type': {
      const map = items.get(item)
      const [field, value] = rng.pick<[string, unknown]>([['name', 42], ['sku', ''], ['reorderPoint', 'five'], ['reorderPoint', -3], ['archived', 'no'], ['unit', 'x'.repeat(40)], ['barcode', null], ['reorderQty', 1.5]])
      map?.set(field, value)
      return `${item}.${field} = ${JSON.stringify(value)}`
    }
    case 'dangling-item':
      append(record({ item: newId('it', random) }))
      return 'movement on an item that does not exist'
    case 'dangling-location':
      append(record({ location: newId('loc', random), kind: 'pick', delta: -1 }))
      return 'movement at a location that does not exist'
    case 'dangling-undo':
      append(record({ kind: 'undo', delta: -2, undoes: newId('mv', random) }))
      return 'undo of a movement that does not exist'
    case 'delete-records': {
      if (ledger.length === 0) return 'empty ledger'
      const at = rng.int(0, ledger.length - 1)
      const n = rng.int(1, Math.min(4, ledger.length - at))
      ledger.delete(at, n)
      return `deleted ${n} records at ${at}`
    }
    case 'edit-record': {
      const all = ledger.toArray() as Movement[]
      if (all.length === 0) return 'empty ledger'
      const at = rng.int(0, all.length - 1)
      const old = all[at] as Movement
      ledger.delete(at, 1)
      append({ ...old, delta: old.delta * 10 + 1 })
      return `rewrote ${old.id}`
    }
    case 'spoofed-author':
      append(record({ by: rng.pick(others) }))
      return 'movement in another user\'s name'
    case 'unpaired-transfer': {
      const transfer = newId('tr', random)
      const other = locationIds.find((l) => l !== location) ?? location
      const variant = rng.pick(['one-leg', 'unequal', 'two-authors'])
      const out = record({ kind: 'transfer-out', delta: -3, transfer })
      const inn = record({ kind: 'transfer-in', delta: 3, transfer, location: other })
      if (variant === 'one-leg') append(out)
      else if (variant === 'unequal') append(out, { ...inn, delta: 2 })
      else append(out, { ...inn, by: rng.pick(others) })
      return `transfer: ${variant}`
    }
    case 'server-roots': {
      const variant = rng.pick(['baseline', 'alert', 'alert-delete', 'meta', 'meta-delete'])
      if (variant === 'baseline') doc.getMap(ROOT.baselines).set(baselineKey(item, location), 1_000)
      else if (variant === 'alert') doc.getMap(ROOT.alerts).set(`${item}:out`, { item, kind: 'out', openedAt: 1 })
      else if (variant === 'alert-delete') for (const k of [...doc.getMap(ROOT.alerts).keys()]) doc.getMap(ROOT.alerts).delete(k)
      else if (variant === 'meta') doc.getMap(ROOT.meta).set('schemaVersion', 99)
      else doc.getMap(ROOT.meta).delete('schemaVersion')
      return `server-only: ${variant}`
    }
    case 'restore-kind':
      append(record({ kind: 'restore', reason: 'snapshot', delta: 50 }))
      return 'restore movement'
    case 'unknown-field':
      items.get(item)?.set(rng.pick(['price', 'onHand', 'colour', 'toString']), rng.pick<unknown>([1, 'x', true]))
      return 'unknown field'
    case 'unknown-root':
      if (rng.chance(0.5)) doc.getMap('shadowLedger').set('k', { a: 1 })
      else doc.getText('notes').insert(0, 'hello')
      return 'unknown root'
    case 'nested-type': {
      const map = items.get(item)
      map?.set(rng.pick(['name', 'extra']), new Y.Map([['a', 1]]))
      return 'nested type in an item'
    }
    case 'remove-entity':
      if (rng.chance(0.7)) items.delete(item)
      else locations.delete(location)
      return 'removed an entity'
    case 'replace-entity':
      items.set(item, new Y.Map<unknown>([['sku', 'FAKE'], ['name', 'Replaced']]))
      return 'replaced an item'
    case 'bad-new-item': {
      const id = rng.chance(0.3) ? 'bad id!' : newId('it', random)
      const fields: Array<[string, unknown]> = rng.pick([[['name', 'No SKU']], [['sku', 'S'], ['name', 7]], [['sku', 'S'], ['name', 'N'], ['cost', 3]]] as Array<Array<[string, unknown]>>)
      items.set(id, new Y.Map(fields))
      if (rng.chance(0.5)) append(record({ item: id }))
      return `bad new item ${id}`
    }
    case 'bad-record-shape':
      append(rng.pick<unknown>([5, 'a movement', null, record({ delta: '3' }), record({ kind: 'steal' }), record({ at: -1 }), record({ extra: 1 }), { id: 'mv_short' }]))
      return 'bad record shape'
    case 'count-mismatch':
      append(record({ kind: 'count', counted: 5, expected: 3, delta: 7 }))
      return 'count whose delta is not counted − expected'
  }
}

const runSchemaFuzz = async (seed: number): Promise<void> => {
  const rng = new Rng(seed)
  t = await startTestServer({ storage: 'sqlite', users: { admin: 'admin', ed: 'editor', edna: 'editor', mallory: 'editor', vic: 'viewer' } })
  const server = t
  const admin = await server.client('admin')
  await synced(admin)
  const locations = ['Dock', 'Aisle 1', 'Aisle 2'].map((name) => admin.inv.createLocation({ name }) as string)
  const items = Array.from({ length: 5 }, (_, i) => admin.inv.createItem({ sku: `SKU-${i}`, name: `Part ${i}`, reorderPoint: 2 }) as string)
  for (const item of items) admin.inv.receive({ item, location: locations[0] as string, quantity: 40 })
  await eventually(() => expect(allSaved(admin)).toBe(true))
  const mallory = await server.client('mallory')
  const vic = await server.client('vic')
  const edna = await server.client('edna')
  await Promise.all([synced(mallory), synced(vic), synced(edna)])
  await eventually(() => expect([mallory, vic, edna].every((c) => c.inv.listItems().length === items.length)).toBe(true))

  // Who wrote with each Yjs client id, as the server's store says.
  const roomDoc = await server.server.relay.withRoom('acme', async (room) => room.doc)
  const byUser = new Map(Object.values(server.users).map((u) => [u.id, u]))
  const owners = new Map<number, Actor>([[roomDoc.clientID, SERVER_ACTOR]])
  for (const c of [admin, mallory, vic, edna]) {
    const u = [...byUser.values()].find((x) => x.id === c.inv.userId)
    if (u) owners.set(c.doc.clientID, { kind: 'user', userId: u.id, role: u.role })
  }
  const authorOf = (client: number): Actor => {
    const a = owners.get(client)
    if (!a) throw new Error(`unknown client id ${client}`)
    return a
  }

  // Every other device checks every state it ever holds.
  const watches: Watch[] = [
    { name: 'admin', client: admin, seen: new Set(), updates: 0, problems: [] },
    { name: 'edna', client: edna, seen: new Set(), updates: 0, problems: [] },
  ]
  for (const w of watches) {
    w.client.doc.on('update', (_u: Uint8Array, origin: unknown) => {
      if (origin !== w.client.provider) return
      w.updates++
      const problems = stateProblems(w.client.doc, { authorOf, ledgerComplete: true })
      const ids = new Set(w.client.doc.getArray<Movement>(ROOT.movements).toArray().map((m) => m.id))
      for (const id of w.seen) if (!ids.has(id)) problems.push(`ledger record ${id} disappeared`)
      for (const id of ids) w.seen.add(id)
      if (problems.length > 0 && w.problems.length < 20) w.problems.push(...problems.map((p) => `${w.name} after update ${w.updates}: ${p}`))
    })
  }

  const random = seededRandom(rng.seed32())
  const stats = { rounds: 0, hostile: {} as Record<string, number>, viewerWrites: 0, honest: 0, rejected: 0 }
  const serverState = () => server.server.relay.withRoom('acme', (room) => room.read((doc) => ({ state: documentState(doc), vector: Y.encodeStateVector(doc).join() })))
  for (let round = 0; round < SCALE.schemaRounds; round++) {
    stats.rounds++
    const sender = rng.chance(0.85) ? mallory : vic
    const senderName = sender === mallory ? 'mallory' : 'vic'
    const others = Object.values(server.users).filter((u) => u.id !== sender.inv.userId).map((u) => u.id)
    const rejectedBefore = sender.rejected.length
    for (let i = 0, n = rng.int(1, 4); i < n; i++) {
      const [act] = rng.chance(0.6)
        ? sender.doc.transact(() => hostileAct(rng, sender.doc, sender.inv.userId, others, random))
        : hostileAct(rng, sender.doc, sender.inv.userId, others, random)
      stats.hostile[act] = (stats.hostile[act] ?? 0) + 1
      if (sender === vic) stats.viewerWrites++
    }
    // The honest editor works meanwhile and is never refused.
    const ednaRejected = edna.rejected.length
    for (let i = 0, n = rng.int(0, 2); i < n; i++) {
      try {
        const item = rng.pick(items)
        if (rng.chance(0.5)) edna.inv.receive({ item, location: rng.pick(locations), quantity: rng.int(1, 5) })
        else edna.inv.pick({ item, location: locations[0] as string, quantity: 1 })
        stats.honest++
      } catch (err) {
        if (!(err instanceof InventoryError)) throw err // an item mallory removed may be back only as a new map
      }
    }
    // Everyone settles: the sender and the honest editor saved, every device at the server's
    // document. (A deletion alone does not move a state vector: the documents themselves must agree.)
    const same = async (): Promise<string | null> => {
      if (!allSaved(sender) || !allSaved(edna)) return 'not saved yet'
      const { state, vector } = await serverState()
      for (const c of [admin, mallory, vic, edna]) {
        if (Y.encodeStateVector(c.doc).join() !== vector) return 'state vectors differ'
        const mine = documentState(c.doc)
        if (JSON.stringify(mine) !== JSON.stringify(state)) return stateDiff(mine, state, c === sender ? senderName : 'a watcher', 'server')
      }
      return null
    }
    try {
      await eventually(async () => expect(await same()).toBeNull(), 15_000)
    } catch {
      throw new Error(`seed ${seed} round ${round}: ${senderName} or a watcher did not converge to the server's document:\n${await same()}`)
    }
    stats.rejected += sender.rejected.length - rejectedBefore
    expect(edna.rejected.slice(ednaRejected), `seed ${seed} round ${round}: the honest editor was refused`).toEqual([])
    // The sender converged back to the server's document (above), and that document is valid.
    expect(stateProblems(sender.doc, { authorOf, ledgerComplete: true }), `seed ${seed} round ${round}: the sender's document`).toEqual([])
    for (const w of watches) expect(w.problems, `seed ${seed} round ${round}: what ${w.name} observed`).toEqual([])
  }
  expect(stats.rejected).toBeGreaterThan(0)
  for (const w of watches) expect(w.updates).toBeGreaterThan(0)
  console.info(`[FUZZ-SCHEMA-1] seed ${seed}: ${JSON.stringify({ ...stats, observed: watches.map((w) => ({ name: w.name, updates: w.updates, records: w.seen.size })) })}`)
}

describe('torture: schema fuzz', () => {
  for (const seed of tortureSeeds([1], [21, 22, 23])) {
    it(`[FUZZ-SCHEMA-1] seed ${seed}: ${SCALE.schemaRounds} rounds of well-formed updates that break the schema; no other device ever holds invalid state, the sender converges back`, () => runSchemaFuzz(seed), timeoutFor(SCALE.schemaRounds / 2))
  }
})
