/**
 * Group commit through real parts: a server on port 0 with SQLite, stock y-websocket providers, and
 * a store hook that can be held or made to fail, to see what the relay does meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { RelayHooks } from '../server/relay/types.js'
import { allSaved, eventually, seedInventory, startTestServer, synced } from './support/server.js'
import type { TestServer } from './support/server.js'

let t: TestServer | null = null
const releases: Array<() => void> = []
afterEach(async () => {
  for (const release of releases.splice(0)) release() // a failed test must not leave the store held
  await t?.stop()
  t = null
})

/** A store hook that records each append and can be held shut or made to fail. */
const controlledStore = () => {
  const appends: number[] = []
  let gate: Promise<void> = Promise.resolve()
  let open = () => {}
  let failing = false
  return {
    appends,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve))
      releases.push(() => open())
    },
    release: () => open(),
    fail: (on: boolean) => {
      failing = on
    },
    wrap: (hooks: RelayHooks): RelayHooks => ({
      ...hooks,
      store: async (tenant, update) => {
        await gate
        if (failing) throw new Error('disk full (test)')
        appends.push(update.length)
        return hooks.store(tenant, update)
      },
    }),
  }
}

const loadedMovements = async (server: TestServer): Promise<number> => {
  const stored = await server.storage.loadDocument('acme')
  const doc = new Y.Doc()
  if (stored.state) Y.applyUpdate(doc, stored.state)
  for (const u of stored.updates) Y.applyUpdate(doc, u)
  const n = doc.getArray('movements').length
  doc.destroy()
  return n
}

describe('group commit', () => {
  it('[SYNC-3] what arrives while an append is under way is stored in one append; nothing is relayed or acknowledged before it is stored', async () => {
    const store = controlledStore()
    t = await startTestServer({ storage: 'sqlite', wrapHooks: store.wrap })
    const server = t
    const accepted = async (): Promise<number> => {
      const text = await (await fetch(`${server.server.url}/metrics`)).text()
      return Number(/^qm_updates_accepted_total (\d+)$/m.exec(text)?.[1] ?? NaN)
    }
    const { admin, shelf, bolts } = await seedInventory(t)
    const ed = await t.client('ed')
    const edna = await t.client('edna')
    await Promise.all([synced(ed), synced(edna)])
    await eventually(() => expect(ed.inv.onHand(bolts) + edna.inv.onHand(bolts)).toBe(20))
    await eventually(() => expect(allSaved(admin)).toBe(true))
    // The alert duty's mirror changes (the new item was out of stock for a moment) go through the
    // same queue: let them be stored first, or the held store would hold them and all behind them.
    await eventually(() => expect(admin.doc.getMap('alerts').size).toBe(0))
    await new Promise((r) => setTimeout(r, 300))

    store.hold()
    const appendsBefore = store.appends.length
    const acceptedBefore = await accepted()
    for (let i = 0; i < 20; i++) {
      ed.inv.receive({ item: bolts, location: shelf, quantity: 1 })
      edna.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    }
    // The server has taken in all 40 while the first append waits at the gate…
    await eventually(async () => expect(await accepted()).toBe(acceptedBefore + 40))
    // …and nobody has heard of any of them, nor been told they are saved.
    expect(admin.inv.onHand(bolts)).toBe(10)
    expect(ed.inv.onHand(bolts)).toBe(30)
    expect(edna.inv.onHand(bolts)).toBe(30)
    expect(allSaved(ed) || allSaved(edna)).toBe(false)
    expect(store.appends.length).toBe(appendsBefore)

    store.release()
    await eventually(() => {
      for (const c of [admin, ed, edna]) expect(c.inv.onHand(bolts)).toBe(50)
      expect(allSaved(ed) && allSaved(edna)).toBe(true)
    })
    // The first batch was held at the gate; everything after it gathered into the next one.
    expect(store.appends.length - appendsBefore).toBeGreaterThanOrEqual(1)
    expect(store.appends.length - appendsBefore).toBeLessThanOrEqual(2)
    expect(await loadedMovements(t)).toBe(1 + 40)
  })

  it('[SYNC-4] when the store fails, the tenant\'s connections are closed with 4500 and nothing unstored is acknowledged; once it works again the senders resend and everything is stored', async () => {
    const store = controlledStore()
    t = await startTestServer({ storage: 'sqlite', wrapHooks: store.wrap })
    const { admin, shelf, bolts } = await seedInventory(t)
    const ed = await t.client('ed')
    await synced(ed)
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const durableBefore = ed.durable

    store.fail(true)
    for (let i = 0; i < 5; i++) ed.inv.pick({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => {
      expect(ed.closes.map((c) => c.code)).toContain(4500)
      expect(admin.closes.map((c) => c.code)).toContain(4500)
    })
    expect(allSaved(ed)).toBe(false)
    expect(ed.durable).toEqual(durableBefore)

    store.fail(false)
    await eventually(() => expect(allSaved(ed)).toBe(true), 15_000)
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(5))
    expect(await loadedMovements(t)).toBe(1 + 5)
  })
})
