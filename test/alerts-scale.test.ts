/**
 * Alerts with two server instances in one process: one store, the in-memory fan-out hub, and duty
 * leases that the test hands from one instance to the other. Each alert is raised once, by the
 * instance that holds the tenant's duty, whichever instance the change came through.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readAlertMirror } from '../sync/alerts.js'
import { Inventory } from '../sync/inventory.js'
import { hashPassword } from '../server/auth/passwords.js'
import type { DutyLeases } from '../server/scale/leases.js'
import { MemoryFanoutHub } from '../server/scale/memory-fanout.js'
import { startServer } from '../server/server.js'
import type { RunningServer } from '../server/server.js'
import { createMemoryStorage } from '../server/storage/memory.js'
import type { Storage } from '../server/storage/types.js'
import { providerFor } from './support/process.js'
import { SECRET, eventually } from './support/server.js'

/** Leases decided by the test: the instance named in `holder` holds every tenant. */
const leasesFor = (instance: string, holder: { id: string }): DutyLeases => ({
  holds: async () => holder.id === instance,
  close: async () => undefined,
})

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('alerts with several instances', () => {
  it('[ALERT-12] each alert is raised once, by the duty holder, whichever instance the changes come through; a new holder takes over by reconciling', async () => {
    const storage = createMemoryStorage()
    await storage.createTenant({ id: 'acme', name: 'Acme' })
    const hash = await hashPassword('a long enough password')
    const ann = await storage.createUser({ tenant: 'acme', username: 'ann', name: 'Ann', role: 'editor', passwordHash: hash })
    const bob = await storage.createUser({ tenant: 'acme', username: 'bob', name: 'Bob', role: 'editor', passwordHash: hash })
    const hub = new MemoryFanoutHub()
    const holder = { id: 'a' }
    const servers: RunningServer[] = []
    /** Which instance tried to open or resolve an alert: only the holder may. */
    const writers: string[] = []
    const watched = (id: string): Storage =>
      new Proxy(storage, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop, target)
          if (typeof value !== 'function') return value
          if (prop === 'openAlert' || prop === 'resolveAlert') writers.push(id)
          return value.bind(target) as unknown
        },
      })
    for (const id of ['a', 'b']) {
      servers.push(await startServer({ storage: watched(id), secret: SECRET, fanout: hub.instance(id), leases: leasesFor(id, holder), alerts: { settings: { standbyRecheckMs: 100 } } }))
    }
    cleanups.push(async () => {
      for (const s of servers) await s.close()
      await storage.close()
    })
    const [a, b] = servers as [RunningServer, RunningServer]
    const device = async (server: RunningServer, user: typeof ann) => {
      const provider = await providerFor(server.port, user)
      cleanups.push(() => provider.destroy())
      await eventually(() => expect(provider.synced).toBe(true))
      return { doc: provider.doc, inv: new Inventory(provider.doc, { userId: user.id }) }
    }
    const settled = () => Promise.all(servers.map((s) => s.alerts.settled()))
    const all = async () => (await settled(), await storage.listAlerts('acme', { status: 'all' }))

    const onA = await device(a, ann)
    const onB = await device(b, bob)
    const shelf = onA.inv.createLocation({ name: 'Shelf' })
    const item = onA.inv.createItem({ sku: 'BOLT', name: 'Bolt', reorderPoint: 5 })
    onA.inv.receive({ item, location: shelf, quantity: 6 })
    await eventually(() => expect(onB.inv.onHand(item)).toBe(6))

    // One pick through each instance: both instances see both changes; only the holder judges them.
    onA.inv.pick({ item, location: shelf, quantity: 1 })
    onB.inv.pick({ item, location: shelf, quantity: 1 })
    await eventually(async () => expect((await all()).map((x) => [x.kind, x.status])).toEqual([['low_stock', 'open']]))
    await eventually(() => expect(readAlertMirror(onB.doc).has(`low_stock:${item}`)).toBe(true)) // written by a, fanned out to b
    expect(writers).toEqual(['a'])

    // The duty moves to b (a's lease lapsed). The next change comes through a, which now drops it;
    // b judges it by reconciling the whole document when it takes over.
    holder.id = 'b'
    onA.inv.pick({ item, location: shelf, quantity: 4 })
    await eventually(async () => {
      const alerts = await all()
      expect(alerts.filter((x) => x.status === 'open').map((x) => x.kind)).toEqual(['out_of_stock'])
      expect(alerts.map((x) => x.kind).sort()).toEqual(['low_stock', 'out_of_stock'])
    })
    await eventually(() => expect([...readAlertMirror(onA.doc).keys()]).toEqual([`out_of_stock:${item}`]))
    expect(writers).toEqual(['a', 'b', 'b']) // b resolved low_stock and opened out_of_stock
  })
})
