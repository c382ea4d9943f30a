/**
 * The relay through real parts: a server on port 0, stock y-websocket providers over `ws`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WS from 'ws'
import * as Y from 'yjs'
import { issueTokens } from '../server/auth/tokens.js'
import { PRESENCE_RENEWAL_MS } from '../server/relay/room.js'
import { MESSAGE } from '../sync/protocol.js'
import { seededRandom } from '../sync/ids.js'
import { SECRET, allSaved, eventually, seedInventory, startTestServer, synced } from './support/server.js'
import type { TestServer } from './support/server.js'

let t: TestServer
beforeEach(async () => {
  t = await startTestServer()
})
afterEach(async () => {
  await t.stop()
})

/** A raw socket speaking the protocol by hand, for hostile frames. */
const rawSocket = async (token: string, tenant = 'acme'): Promise<{ ws: WS; closed: Promise<{ code: number; reason: string }> }> => {
  const ws = new WS(`${t.server.wsUrl}/${tenant}?token=${encodeURIComponent(token)}`)
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { ws, closed }
}


describe('relay', () => {
  it('[SYNC-1] several providers converge through the server, and the sender is told when its change is durable', async () => {
    const { admin, shelf, bolts } = await seedInventory(t)
    const ed = await t.client('ed')
    const edna = await t.client('edna')
    await Promise.all([synced(ed), synced(edna)])
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(10))
    ed.inv.pick({ item: bolts, location: shelf, quantity: 2 })
    edna.inv.pick({ item: bolts, location: shelf, quantity: 3 })
    await eventually(() => {
      for (const c of [admin, ed, edna]) expect(c.inv.onHand(bolts)).toBe(5)
    })
    await eventually(() => expect(allSaved(ed) && allSaved(edna)).toBe(true))
    expect(ed.doc.getArray('movements').toJSON()).toEqual(admin.doc.getArray('movements').toJSON())
  })

  it('[ROLE-1] a viewer receives everything, its writes never reach another device, and it is told', async () => {
    const { admin, shelf, bolts } = await seedInventory(t)
    const vic = await t.client('vic')
    await synced(vic)
    await eventually(() => expect(vic.inv.onHand(bolts)).toBe(10))
    const seen: number[] = []
    admin.doc.on('update', () => seen.push(admin.inv.onHand(bolts)))
    vic.inv.receive({ item: bolts, location: shelf, quantity: 100 })
    await eventually(() => expect(vic.rejected.map((r) => r.code)).toEqual(['read-only']))
    await eventually(() => expect(vic.inv.onHand(bolts)).toBe(10))
    // Give the server time to have relayed anything it would have relayed.
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(vic.inv.onHand(bolts)).toBe(11))
    expect(seen.every((n) => n <= 11)).toBe(true)
  })

  it('[ISO-2] a token for tenant A cannot open tenant B', async () => {
    const gus = await t.client('gus', { tenant: 'acme', token: await t.token('gus') })
    await eventually(() => expect(gus.closes[0]?.code).toBe(4403))
    expect(gus.provider.synced).toBe(false)
    expect(gus.doc.getMap('items').size).toBe(0)
  })

  it('[CONN-1] forged, malformed, missing and expired tokens are refused with named close codes', async () => {
    const good = await t.token('ed')
    const forged = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    const user = t.users['ed']
    if (!user) throw new Error('no user')
    const expired = (await issueTokens(SECRET, user, Date.now() - 3_600_000)).token
    const otherSecret = (await issueTokens('another-secret-another-secret-another-secret', user)).token
    const cases: Array<[string, number]> = [
      [forged, 4401],
      ['not-a-jwt', 4401],
      ['', 4401],
      [otherSecret, 4401],
      [expired, 4440],
    ]
    for (const [token, code] of cases) {
      const { ws, closed } = await rawSocket(token)
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MESSAGE.sync)
      encoding.writeVarUint(e, 0)
      encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()))
      ws.send(encoding.toUint8Array(e))
      const received: Buffer[] = []
      ws.on('message', (m: Buffer) => received.push(m))
      expect((await closed).code, `token ${token.slice(0, 20)}`).toBe(code)
      expect(received).toEqual([]) // nothing was sent before the refusal
    }
  })

  it('[CONN-2] malformed relay paths are refused with 4400 and the server stays up', async () => {
    const token = await t.token('ed')
    for (const path of ['%E0', 'ACME', 'acme/extra', '', '..%2f..']) {
      const ws = new WS(`${t.server.wsUrl}/${path}?token=${encodeURIComponent(token)}`)
      const code = await new Promise<number>((resolve) => {
        ws.on('close', (c) => resolve(c))
        ws.on('error', () => resolve(-1))
      })
      expect(code, path).toBe(4400)
    }
    expect((await fetch(`${t.server.url}/api/health`)).status).toBe(200)
  })

  it('[CONN-3] an open connection is closed with 4440 when its token expires, so rights are checked again', async () => {
    const user = t.users['ed']
    if (!user) throw new Error('no user')
    const token = (await issueTokens(SECRET, user, Date.now(), { accessSeconds: 2, refreshSeconds: 60 })).token
    const ed = await t.client('ed', { token })
    await synced(ed)
    await eventually(() => expect(ed.closes.map((c) => c.code)).toContain(4440), 10_000)
  })

  it('[VAL-8] a movement naming another user is compensated everywhere and the sender is told', async () => {
    const { admin, shelf, bolts } = await seedInventory(t)
    const ed = await t.client('ed')
    await synced(ed)
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(10))
    ed.doc.getArray('movements').push([
      { id: 'mv_spoofed0001', item: bolts, location: shelf, delta: -7, kind: 'pick', by: t.users['admin']?.id, at: Date.now() },
    ])
    await eventually(() => expect(ed.rejected.map((r) => r.code)).toEqual(['author-mismatch']))
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(10))
    expect(admin.inv.onHand(bolts)).toBe(10)
    expect(admin.inv.movementsOf(bolts).map((m) => m.id)).not.toContain('mv_spoofed0001')
  })

  it('[VAL-16] a Yjs client id belongs to the first user who writes with it; a forged one is refused', async () => {
    const { admin, shelf, bolts } = await seedInventory(t)
    // Ed crafts an update that writes with the admin's device's client id.
    const forged = new Y.Doc()
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(admin.doc))
    forged.clientID = admin.doc.clientID
    const before = Y.encodeStateVector(forged)
    forged.getArray('movements').push([
      { id: 'mv_forged00001', item: bolts, location: shelf, delta: 50, kind: 'receive', by: t.users['ed']?.id, at: Date.now() },
    ])
    const ws = new WS(`${t.server.wsUrl}/acme?ext=1&token=${encodeURIComponent(await t.token('ed'))}`)
    const types: number[] = []
    ws.on('message', (m: Buffer) => types.push(m[0] ?? -1))
    await new Promise<void>((resolve) => ws.once('open', () => resolve()))
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MESSAGE.sync)
    encoding.writeVarUint(e, 2)
    encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(forged, before))
    ws.send(encoding.toUint8Array(e))
    await eventually(() => expect(types).toContain(MESSAGE.rejected))
    ws.close()
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    expect(admin.inv.onHand(bolts)).toBe(11)
    expect(admin.inv.movementsOf(bolts).map((m) => m.id)).not.toContain('mv_forged00001')
  })

  it('[LIMIT-1] an oversize frame closes only that connection', async () => {
    await t.stop()
    t = await startTestServer({ limits: { maxFrameBytes: 64 * 1024 } })
    const { admin, shelf, bolts } = await seedInventory(t)
    const { ws, closed } = await rawSocket(await t.token('ed'))
    ws.send(new Uint8Array(65 * 1024))
    expect((await closed).code).toBe(1009)
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const edna = await t.client('edna')
    await synced(edna)
    await eventually(() => expect(edna.inv.onHand(bolts)).toBe(11))
  })

  it('[LIMIT-2] bytes sent before authentication finishes are capped', async () => {
    await t.stop()
    let releaseAuth = () => {}
    const authGate = new Promise<void>((resolve) => (releaseAuth = resolve))
    t = await startTestServer({
      limits: { maxUnauthenticatedBytes: 1024 },
      wrapHooks: (hooks) => ({ ...hooks, authenticate: async (tenant, token) => (await authGate, hooks.authenticate(tenant, token)) }),
    })
    const { ws, closed } = await rawSocket(await t.token('ed'))
    for (let i = 0; i < 3; i++) ws.send(new Uint8Array(512))
    expect((await closed).code).toBe(4408)
    releaseAuth()
    const ed = await t.client('ed')
    await synced(ed)
  })

  it('[PROTO-1] random and truncated frames never crash the server or corrupt the document', async () => {
    const { admin, shelf, bolts } = await seedInventory(t)
    const { ws } = await rawSocket(await t.token('ed'))
    const random = seededRandom(42)
    const valid = (() => {
      const doc = new Y.Doc()
      doc.getArray('movements').push([{ id: 'mv_fuzzvalid01', item: bolts, location: shelf, delta: 1, kind: 'receive', by: t.users['ed']?.id, at: 1 }])
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MESSAGE.sync)
      encoding.writeVarUint(e, 2)
      encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc))
      return encoding.toUint8Array(e)
    })()
    for (let i = 0; i < 300; i++) {
      const kind = i % 3
      let frame: Uint8Array
      if (kind === 0) frame = valid.slice(0, Math.floor(random() * valid.length)) // truncated
      else if (kind === 1) {
        frame = valid.slice()
        for (let k = 0; k < 3; k++) frame[Math.floor(random() * frame.length)] = Math.floor(random() * 256)
      } else frame = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))
      if (ws.readyState === ws.OPEN) ws.send(frame)
    }
    ws.close()
    // The server is up, a well-behaved client still syncs, and the document is valid.
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    const edna = await t.client('edna')
    await synced(edna)
    await eventually(() => expect(edna.inv.onHand(bolts)).toBe(admin.inv.onHand(bolts)))
    const health = await fetch(`${t.server.url}/api/health`)
    expect(health.status).toBe(200)
    for (const m of edna.inv.movements.toArray()) expect(typeof m.id).toBe('string')
  })

  it('[PRESENCE-1] awareness states carry the authenticated identity, whatever the client claims', async () => {
    const ed = await t.client('ed')
    const edna = await t.client('edna')
    await Promise.all([synced(ed), synced(edna)])
    ed.provider.awareness.setLocalState({ user: { id: t.users['admin']?.id, name: 'Totally the admin' }, viewing: 'it_1' })
    await eventually(() => {
      const state = edna.provider.awareness.getStates().get(ed.doc.clientID)
      expect(state).toMatchObject({ viewing: 'it_1', user: { id: t.users['ed']?.id, name: 'ED', role: 'editor' } })
    })
  })

  it('[PRESENCE-2] a connection cannot speak for another connection\'s presence, and an oversize state is dropped without claiming its id', async () => {
    const ed = await t.client('ed')
    const edna = await t.client('edna')
    await Promise.all([synced(ed), synced(edna)])
    ed.provider.awareness.setLocalState({ viewing: 'it_1' })
    await eventually(() => expect(edna.provider.awareness.getStates().get(ed.doc.clientID)).toMatchObject({ viewing: 'it_1' }))
    const presence = (clientId: number, clock: number, state: unknown) => {
      const inner = encoding.createEncoder()
      encoding.writeVarUint(inner, 1)
      encoding.writeVarUint(inner, clientId)
      encoding.writeVarUint(inner, clock)
      encoding.writeVarString(inner, JSON.stringify(state))
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MESSAGE.awareness)
      encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
      return encoding.toUint8Array(e)
    }
    const { ws } = await rawSocket(await t.token('vic'))
    await new Promise((r) => setTimeout(r, 100))
    ws.send(presence(ed.doc.clientID, 999, { viewing: 'it_hijacked' })) // ed's id: refused
    ws.send(presence(4242, 1, { note: 'x'.repeat(10_000) })) // too big: dropped, id not claimed
    ws.send(presence(4243, 1, { viewing: 'it_2' }))
    await eventually(() => expect(edna.provider.awareness.getStates().get(4243)).toMatchObject({ user: { id: t.users['vic']?.id } }))
    expect(edna.provider.awareness.getStates().get(ed.doc.clientID)).toMatchObject({ viewing: 'it_1', user: { id: t.users['ed']?.id } })
    expect(edna.provider.awareness.getStates().has(4242)).toBe(false)
    ws.close()
  })

  it('[PRESENCE-3] presence is broadcast in batches: changes from many devices together within PRESENCE_CHANGE_MS, renewals within PRESENCE_RENEWAL_MS, not one message per device', async () => {
    const frame = (clientId: number, clock: number, state: unknown) => {
      const inner = encoding.createEncoder()
      encoding.writeVarUint(inner, 1)
      encoding.writeVarUint(inner, clientId)
      encoding.writeVarUint(inner, clock)
      encoding.writeVarString(inner, JSON.stringify(state))
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, MESSAGE.awareness)
      encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
      return encoding.toUint8Array(e)
    }
    const observer = await rawSocket(await t.token('vic'))
    const arrivals: Array<{ states: number }> = []
    observer.ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data))
      if (decoding.readVarUint(d) !== MESSAGE.awareness) return
      const update = decoding.createDecoder(decoding.readVarUint8Array(d))
      arrivals.push({ states: decoding.readVarUint(update) })
    })
    const devices = await Promise.all(Array.from({ length: 10 }, async () => rawSocket(await t.token('ed'))))
    await new Promise((r) => setTimeout(r, 300))
    arrivals.length = 0
    devices.forEach((d, i) => d.ws.send(frame(5000 + i, 1, { viewing: `it_${i}` })))
    await eventually(() => expect(arrivals.reduce((n, a) => n + a.states, 0)).toBe(10))
    expect(arrivals.length).toBeLessThanOrEqual(2) // ten devices, one or two messages

    // Renewals: the same states with a new clock.
    arrivals.length = 0
    devices.forEach((d, i) => d.ws.send(frame(5000 + i, 2, { viewing: `it_${i}` })))
    await eventually(() => expect(arrivals.reduce((n, a) => n + a.states, 0)).toBe(10), PRESENCE_RENEWAL_MS + 5000)
    expect(arrivals.length).toBeLessThanOrEqual(2)
    for (const d of [observer, ...devices]) d.ws.close()
  })

  it('[SYNC-2] a stock provider without the extension gets no custom messages and still syncs', async () => {
    const { bolts } = await seedInventory(t)
    const plain = await t.client('ed', { ext: false })
    await synced(plain)
    await eventually(() => expect(plain.inv.onHand(bolts)).toBe(10))
    plain.inv.updateItem(bolts, { name: 'Bolt M8' })
    await new Promise((r) => setTimeout(r, 200))
    expect(plain.durable).toBeNull()
  })
})
