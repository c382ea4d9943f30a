/**
 * One test per validation rule, valid and invalid: a client document makes a change, the "server"
 * document applies it through applyGuarded, and we check the violation codes, that the server's
 * state is valid, and that the client converges back to it.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyGuarded } from './guard.js'
import { seededRandom } from './ids.js'
import { Inventory } from './inventory.js'
import { LedgerIndex } from './ledger-index.js'
import type { Actor, Role } from './origin.js'
import { SERVER_ACTOR } from './origin.js'
import type { Movement } from './schema.js'
import { fork, pull } from '../test/support/replicas.js'

const setup = () => {
  const server = new Y.Doc()
  const index = new LedgerIndex(server)
  const admin = new Inventory(server, { userId: 'admin', index, random: seededRandom(1), origin: { source: 'server', reason: 'migration' } })
  const shelf = admin.createLocation({ name: 'Shelf' })
  const bolts = admin.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 2 })
  admin.receive({ item: bolts, location: shelf, quantity: 10 })
  const owners = new Map<number, Actor>()
  const client = (userId: string, role: Role, seed = 2) => {
    const doc = fork(server)
    owners.set(doc.clientID, { kind: 'user', userId, role })
    const inv = new Inventory(doc, { userId, random: seededRandom(seed) })
    /** Sends everything the client has that the server lacks, as a connection would. */
    const send = () => {
      const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(server))
      const violations = applyGuarded(server, index, update, {
        origin: { source: 'connection', connectionId: userId },
        actorOf: (c) => (c === null ? { kind: 'user', userId, role } : (owners.get(c) ?? SERVER_ACTOR)),
      })
      pull(doc, server)
      return violations.map((v) => v.code)
    }
    return { doc, inv, send }
  }
  const snapshot = (doc: Y.Doc) => ({
    ...Object.fromEntries(['items', 'locations', 'baselines', 'alerts', 'meta'].map((r) => [r, doc.getMap(r).toJSON()])),
    movements: doc.getArray('movements').toJSON(),
  })
  const converged = (doc: Y.Doc) => {
    expect(snapshot(doc)).toEqual(snapshot(server))
  }
  return { server, index, shelf, bolts, client, converged }
}

const rawPush = (doc: Y.Doc, record: Record<string, unknown>) => doc.getArray('movements').push([record])

describe('validation rules', () => {
  it('[VAL-1] valid changes by an editor pass untouched', () => {
    const { client, shelf, bolts, index, converged, server } = setup()
    const c = client('ed', 'editor')
    const loc = c.inv.createLocation({ name: 'Back' })
    const item = c.inv.createItem({ sku: 'NUT', name: 'Nut', barcode: '123', reorderQty: 5 })
    c.inv.receive({ item, location: loc, quantity: 3 })
    c.inv.transfer({ item: bolts, from: shelf, to: loc, quantity: 2 })
    c.inv.count({ item: bolts, location: shelf, counted: 7 })
    c.inv.adjust({ item: bolts, location: shelf, delta: -1, reason: 'damaged' })
    const p = c.inv.pick({ item, location: loc, quantity: 1 })
    c.inv.undo(p.id)
    c.inv.updateItem(bolts, { name: 'Bolt M10', reorderPoint: 4 })
    c.inv.archiveItem(item)
    expect(c.send()).toEqual([])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(8) // 10, transfer keeps 10, count 7 of 8 at the shelf: −1, adjust −1
    expect(index.onHand(item)).toBe(3)
    expect(new Inventory(server, { userId: 'x', index }).item(bolts)?.name).toBe('Bolt M10')
  })

  it('[VAL-2] a viewer writes nothing: every change is undone and the viewer converges back', () => {
    const { client, shelf, bolts, converged, index } = setup()
    const v = client('vic', 'viewer')
    v.inv.receive({ item: bolts, location: shelf, quantity: 5 })
    v.inv.updateItem(bolts, { name: 'Renamed' })
    v.inv.createItem({ sku: 'V', name: 'Viewer item' })
    const codes = v.send()
    expect(codes.length).toBe(3)
    expect(new Set(codes)).toEqual(new Set(['read-only']))
    converged(v.doc)
    expect(index.onHand(bolts)).toBe(10)
    expect(v.doc.getMap('items').size).toBe(1)
  })

  it('[VAL-3] nothing outside the schema: unknown top-level types, unknown fields, nested shared types', () => {
    const { client, bolts, converged, server } = setup()
    const c = client('ed', 'editor')
    c.doc.getMap('secrets').set('x', 1)
    c.doc.getArray('stuff').push([1, 2, 3])
    const item = c.doc.getMap<Y.Map<unknown>>('items').get(bolts) as Y.Map<unknown>
    item.set('color', 'red')
    item.set('name', new Y.Text('nested'))
    const codes = c.send()
    expect(codes.filter((x) => x === 'unknown-structure').length).toBeGreaterThanOrEqual(2)
    expect(codes).toContain('unknown-field')
    expect(codes).toContain('invalid-field')
    converged(c.doc)
    expect(server.getMap('secrets').size).toBe(0)
    expect(server.getArray('stuff').length).toBe(0)
    expect((server.getMap('items').get(bolts) as Y.Map<unknown>).toJSON()).not.toHaveProperty('color')
    expect((server.getMap('items').get(bolts) as Y.Map<unknown>).get('name')).toBe('Bolt')
  })

  it('[VAL-4] field schema and bounds: a bad new item is not created, a bad edit is reverted, a valid edit stays', () => {
    const { client, bolts, converged, server } = setup()
    const c = client('ed', 'editor')
    c.doc.getMap('items').set('it_bad', new Y.Map<unknown>([['sku', 'X'], ['name', ''], ['reorderPoint', 1.5]]))
    c.doc.getMap('items').set('it_nosku', new Y.Map<unknown>([['name', 'no sku']]))
    c.doc.getMap('items').set('bad id!', new Y.Map<unknown>([['sku', 'Y'], ['name', 'bad id']]))
    const item = c.doc.getMap<Y.Map<unknown>>('items').get(bolts) as Y.Map<unknown>
    item.set('reorderPoint', -3)
    item.delete('sku')
    item.set('reorderQty', 12)
    const codes = c.send()
    expect(codes).toEqual(expect.arrayContaining(['invalid-field', 'missing-field', 'invalid-id']))
    converged(c.doc)
    expect(server.getMap('items').has('it_bad')).toBe(false)
    expect(server.getMap('items').has('it_nosku')).toBe(false)
    expect(server.getMap('items').has('bad id!')).toBe(false)
    expect((server.getMap('items').get(bolts) as Y.Map<unknown>).toJSON()).toMatchObject({ sku: 'BOLT', reorderPoint: 2, reorderQty: 12 })
  })

  it('[VAL-5] items and locations are archived, never removed or replaced', () => {
    const { client, bolts, shelf, converged, server } = setup()
    const c = client('ed', 'editor')
    c.doc.getMap('items').delete(bolts)
    c.doc.getMap('locations').set(shelf, new Y.Map<unknown>([['name', 'Replaced']]))
    expect(c.send()).toEqual(['entity-removed', 'entity-removed'])
    converged(c.doc)
    expect((server.getMap('items').get(bolts) as Y.Map<unknown>).get('sku')).toBe('BOLT')
    expect((server.getMap('locations').get(shelf) as Y.Map<unknown>).get('name')).toBe('Shelf')
  })

  it('[VAL-6] movement records: shape, kind, sign, required fields', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    const base = { item: bolts, location: shelf, by: 'ed', at: 1 }
    rawPush(c.doc, { ...base, id: 'mv_badkind01', kind: 'steal', delta: -1 })
    rawPush(c.doc, { ...base, id: 'mv_badsign01', kind: 'receive', delta: -1 })
    rawPush(c.doc, { ...base, id: 'mv_noreason1', kind: 'adjust', delta: 2 })
    rawPush(c.doc, { ...base, id: 'mv_fraction1', kind: 'receive', delta: 1.5 })
    rawPush(c.doc, { ...base, id: 'mv_extra0001', kind: 'receive', delta: 1, colour: 'red' })
    rawPush(c.doc, { ...base, id: 'mv_countx001', kind: 'receive', delta: 1, counted: 3 })
    c.doc.getArray('movements').push(['just a string', 42])
    c.doc.getArray('movements').push([new Y.Map()])
    rawPush(c.doc, { ...base, id: 'mv_valid0001', kind: 'receive', delta: 4 })
    const codes = c.send()
    expect(codes.filter((x) => x === 'invalid-movement')).toHaveLength(8)
    expect(codes).toContain('unknown-structure')
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(14)
    expect(index.movementsOf(bolts).map((m) => m.id)).toContain('mv_valid0001')
  })

  it('[VAL-7] movements reference existing items and locations (a new item in the same change counts)', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    rawPush(c.doc, { id: 'mv_noitem001', item: 'it_nothing', location: shelf, delta: 1, kind: 'receive', by: 'ed', at: 1 })
    rawPush(c.doc, { id: 'mv_noloc0001', item: bolts, location: 'loc_nothing', delta: 1, kind: 'receive', by: 'ed', at: 1 })
    const fresh = c.inv.createItem({ sku: 'NEW', name: 'New' })
    c.inv.receive({ item: fresh, location: shelf, quantity: 2 })
    expect(c.send()).toEqual(['unknown-item', 'unknown-location'])
    converged(c.doc)
    expect(index.onHand(fresh)).toBe(2)
  })

  it('[VAL-8] a movement\'s `by` must be the user who wrote it', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    rawPush(c.doc, { id: 'mv_spoofed01', item: bolts, location: shelf, delta: -5, kind: 'pick', by: 'someone-else', at: 1 })
    expect(c.send()).toEqual(['author-mismatch'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(10)
  })

  it('[VAL-9] ledger records are never deleted or changed by clients', () => {
    const { client, bolts, converged, index } = setup()
    const c = client('ed', 'editor')
    const { shelf } = { shelf: c.doc.getMap('locations').keys().next().value as string }
    const mine = c.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    expect(c.send()).toEqual([])
    const ledger = c.doc.getArray<Movement>('movements')
    ledger.delete(0, 1) // the admin's receive
    const at = ledger.toArray().findIndex((m) => m.id === mine.id)
    c.doc.transact(() => {
      ledger.delete(at, 1)
      ledger.push([{ ...mine, delta: 1000 }]) // an "edit": same id, new numbers
    })
    const codes = c.send()
    expect(codes).toEqual(['ledger-changed', 'ledger-changed', 'ledger-changed'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(11)
    expect(index.movementsWithId(mine.id)).toEqual([mine])
  })

  it('[VAL-10] baselines, alerts and meta are written by the server only', () => {
    const { client, converged, server, bolts, shelf } = setup()
    const c = client('boss', 'admin')
    c.doc.getMap('baselines').set(`${bolts}@${shelf}`, 1_000_000)
    c.doc.getMap('alerts').set('fake', { kind: 'low_stock' })
    c.doc.getMap('meta').set('schemaVersion', 7)
    expect(c.send()).toEqual(['server-only', 'server-only', 'server-only'])
    converged(c.doc)
    expect(server.getMap('baselines').size).toBe(0)
    expect(server.getMap('alerts').size).toBe(0)
  })

  it('[VAL-11] only the server records restore movements', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('boss', 'admin')
    rawPush(c.doc, { id: 'mv_restore01', item: bolts, location: shelf, delta: 50, kind: 'restore', reason: 'sneaky', by: 'boss', at: 1 })
    expect(c.send()).toEqual(['server-only'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(10)
  })

  it('[VAL-12] transfers come as one out leg and one matching in leg', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    const back = c.inv.createLocation({ name: 'Back' })
    const base = { item: bolts, by: 'ed', at: 1, transfer: 'tr_lonely0001' }
    rawPush(c.doc, { ...base, id: 'mv_lonely001', location: shelf, delta: -3, kind: 'transfer-out' })
    rawPush(c.doc, { ...base, id: 'mv_mismatch1', location: shelf, delta: -3, kind: 'transfer-out', transfer: 'tr_mismatch01' })
    rawPush(c.doc, { ...base, id: 'mv_mismatch2', location: back, delta: 2, kind: 'transfer-in', transfer: 'tr_mismatch01' })
    c.inv.transfer({ item: bolts, from: shelf, to: back, quantity: 1 })
    expect(c.send()).toEqual(['unpaired-transfer', 'unpaired-transfer', 'unpaired-transfer'])
    converged(c.doc)
    expect(index.onHand(bolts, back)).toBe(1)
    expect(index.onHand(bolts)).toBe(10)
  })

  it('[VAL-13] a count\'s delta is counted − expected', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    c.inv.count({ item: bolts, location: shelf, counted: 9 })
    rawPush(c.doc, { id: 'mv_count0001', item: bolts, location: shelf, delta: 5, counted: 12, expected: 10, kind: 'count', by: 'ed', at: 1 })
    expect(c.send()).toEqual(['count-mismatch'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(9)
  })

  it('[VAL-14] an undo reverses exactly one of the same user\'s movements, once', () => {
    const { client, bolts, shelf, converged, index, server } = setup()
    const c = client('ed', 'editor')
    const mine = c.inv.receive({ item: bolts, location: shelf, quantity: 4 })
    expect(c.send()).toEqual([])
    const adminsMove = index.movementsOf(bolts).find((m) => m.by === 'admin') as Movement
    const base = { item: bolts, location: shelf, kind: 'undo', by: 'ed', at: 2 }
    rawPush(c.doc, { ...base, id: 'mv_undoothr1', delta: -adminsMove.delta, undoes: adminsMove.id })
    rawPush(c.doc, { ...base, id: 'mv_undowrng1', delta: -3, undoes: mine.id })
    rawPush(c.doc, { ...base, id: 'mv_undomiss1', delta: -3, undoes: 'mv_notthere1' })
    rawPush(c.doc, { ...base, id: 'mv_undook001', delta: -4, undoes: mine.id })
    rawPush(c.doc, { ...base, id: 'mv_undotwice', delta: -4, undoes: mine.id })
    expect(c.send()).toEqual(['invalid-undo', 'invalid-undo', 'invalid-undo', 'invalid-undo'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(10)
    expect(server.getArray('movements').toArray().map((m) => (m as Movement).id)).toContain('mv_undook001')
  })

  it('[VAL-15] one bad record does not cost the valid records sent with it', () => {
    const { client, bolts, shelf, converged, index } = setup()
    const c = client('ed', 'editor')
    c.doc.transact(() => {
      c.doc.getArray('movements').push([
        { id: 'mv_good00001', item: bolts, location: shelf, delta: 1, kind: 'receive', by: 'ed', at: 1 },
        { id: 'mv_bad000001', item: bolts, location: shelf, delta: 1, kind: 'receive', by: 'eve', at: 1 },
        { id: 'mv_good00002', item: bolts, location: shelf, delta: 2, kind: 'receive', by: 'ed', at: 1 },
      ])
    })
    expect(c.send()).toEqual(['author-mismatch'])
    converged(c.doc)
    expect(index.onHand(bolts)).toBe(13)
  })
})
