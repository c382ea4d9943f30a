/** The snapshot and audit part of the Storage contract (called from contract.ts). */
import { describe, expect, it } from 'vitest'
import { StorageError } from './types.js'
import type { Storage } from './types.js'

const state = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (seed + i) & 0xff)

export const snapshotContract = (
  storage: () => Storage,
  persistent: { it: (name: string, fn: () => Promise<void>) => void; reopen: () => Promise<void> },
): void => {
  describe('snapshots', () => {
    it('[SNAP-STORE-1] a saved snapshot comes back whole, with its metadata, newest first in lists', async () => {
      const first = await storage().saveSnapshot({ tenant: 'acme', trigger: 'schedule', createdBy: null, reason: 'hourly', itemCount: 3, totalUnits: 40, state: state(1) })
      const second = await storage().saveSnapshot({ tenant: 'acme', trigger: 'manual', createdBy: 'u_1', reason: 'before import', itemCount: 4, totalUnits: 41, state: state(2) })
      expect(first).toMatchObject({ tenant: 'acme', trigger: 'schedule', createdBy: null, reason: 'hourly', itemCount: 3, totalUnits: 40, byteSize: 32 })
      expect(first.id).not.toBe(second.id)
      const list = await storage().listSnapshots('acme')
      expect(list.map((s) => s.id).sort()).toEqual([first.id, second.id].sort())
      expect(list[0]?.createdAt).toBeGreaterThanOrEqual(list[1]?.createdAt ?? Infinity)
      expect(list.every((s) => !('state' in s))).toBe(true)
      expect((await storage().listSnapshots('acme', { trigger: 'manual' })).map((s) => s.id)).toEqual([second.id])
      expect(await storage().getSnapshot('acme', second.id)).toEqual({ ...second, state: state(2) })
      expect(await storage().getSnapshot('acme', 'sn_nothing')).toBeUndefined()
    })

    it('[SNAP-STORE-2] a snapshot can be deleted; snapshots of one tenant never show in another', async () => {
      await storage().createTenant({ id: 'globex', name: 'Globex' })
      const s = await storage().saveSnapshot({ tenant: 'acme', trigger: 'manual', createdBy: 'u_1', reason: '', itemCount: 0, totalUnits: 0, state: state(3) })
      expect(await storage().getSnapshot('globex', s.id)).toBeUndefined()
      expect(await storage().deleteSnapshot('globex', s.id)).toBe(false)
      expect(await storage().listSnapshots('globex')).toEqual([])
      expect(await storage().deleteSnapshot('acme', s.id)).toBe(true)
      expect(await storage().getSnapshot('acme', s.id)).toBeUndefined()
    })

    it('[SNAP-STORE-3] an empty state, an unknown tenant or a bad limit is refused with a StorageError', async () => {
      const refused = async (p: Promise<unknown>) => expect(await p.then(() => null, (e: unknown) => e)).toBeInstanceOf(StorageError)
      await refused(storage().saveSnapshot({ tenant: 'acme', trigger: 'manual', createdBy: null, reason: '', itemCount: 0, totalUnits: 0, state: new Uint8Array() }))
      await refused(storage().saveSnapshot({ tenant: 'nowhere', trigger: 'manual', createdBy: null, reason: '', itemCount: 0, totalUnits: 0, state: state(4) }))
      await refused(storage().listSnapshots('acme', { limit: 0 }))
    })

    persistent.it('[SNAP-STORE-4] snapshots and the audit log survive close and reopen', async () => {
      const s = await storage().saveSnapshot({ tenant: 'acme', trigger: 'pre-restore', createdBy: 'u_1', reason: 'before restore', itemCount: 1, totalUnits: 2, state: state(5) })
      await storage().appendAudit({ tenant: 'acme', actor: 'u_1', action: 'restore', detail: { snapshot: s.id } })
      await persistent.reopen()
      expect((await storage().getSnapshot('acme', s.id))?.state).toEqual(state(5))
      expect((await storage().listAudit('acme'))[0]).toMatchObject({ action: 'restore', detail: { snapshot: s.id } })
    })
  })

  describe('audit log', () => {
    it('[AUDIT-1] entries keep who, when, what and the detail, newest first, paged and filtered by action', async () => {
      const a = await storage().appendAudit({ tenant: 'acme', actor: 'u_1', action: 'restore', detail: { snapshot: 'sn_1', changed: { items: 2 } } })
      const b = await storage().appendAudit({ tenant: 'acme', actor: 'u_2', action: 'import', detail: { rows: 10 } })
      const c = await storage().appendAudit({ tenant: 'acme', actor: 'u_1', action: 'restore', detail: null })
      expect(a.id < b.id && b.id < c.id).toBe(true)
      expect(a).toMatchObject({ tenant: 'acme', actor: 'u_1', action: 'restore', detail: { snapshot: 'sn_1', changed: { items: 2 } } })
      expect((await storage().listAudit('acme')).map((e) => e.id)).toEqual([c.id, b.id, a.id])
      expect((await storage().listAudit('acme', { action: 'restore' })).map((e) => e.id)).toEqual([c.id, a.id])
      expect((await storage().listAudit('acme', { limit: 1, before: c.id })).map((e) => e.id)).toEqual([b.id])
    })
  })
}
