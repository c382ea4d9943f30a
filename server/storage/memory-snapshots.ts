/** Snapshots and the audit log in memory, for tests: the same behaviour as SQLite. */
import { newId } from '../../sync/ids.js'
import { snapshotMeta } from './snapshot-types.js'
import type { AuditEntry, AuditStore, SnapshotStore, StoredSnapshot } from './snapshot-types.js'
import { checkSnapshot, pageLimit } from './validate.js'

export interface MemoryHelpers {
  /** Throws unless the store is open and the tenant exists. */
  requireTenant(tenant: string): void
  /** Throws unless the store is open. */
  open(): void
  now(): number
}

export const memorySnapshotStores = (h: MemoryHelpers): SnapshotStore & AuditStore => {
  const snapshots = new Map<string, StoredSnapshot[]>()
  const audit: AuditEntry[] = []
  const newestFirst = (a: StoredSnapshot, b: StoredSnapshot) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)
  const strip = ({ state: _state, ...meta }: StoredSnapshot) => meta
  return {
    async saveSnapshot(snapshot) {
      checkSnapshot(snapshot)
      h.requireTenant(snapshot.tenant)
      const stored: StoredSnapshot = { ...snapshotMeta(snapshot, newId('sn'), h.now()), state: new Uint8Array(snapshot.state) }
      snapshots.set(snapshot.tenant, [...(snapshots.get(snapshot.tenant) ?? []), stored])
      return strip(stored)
    },
    async listSnapshots(tenant, options = {}) {
      h.open()
      const limit = pageLimit(options.limit)
      return (snapshots.get(tenant) ?? [])
        .filter((s) => options.trigger === undefined || s.trigger === options.trigger)
        .sort(newestFirst)
        .slice(0, limit)
        .map(strip)
    },
    async getSnapshot(tenant, id) {
      h.open()
      const found = (snapshots.get(tenant) ?? []).find((s) => s.id === id)
      return found ? { ...found, state: new Uint8Array(found.state) } : undefined
    },
    async deleteSnapshot(tenant, id) {
      h.open()
      const list = snapshots.get(tenant) ?? []
      const kept = list.filter((s) => s.id !== id)
      snapshots.set(tenant, kept)
      return kept.length !== list.length
    },
    async appendAudit({ tenant, actor, action, detail }) {
      h.requireTenant(tenant)
      const entry: AuditEntry = { id: audit.length + 1, tenant, at: h.now(), actor, action, detail: JSON.parse(JSON.stringify(detail ?? null)) }
      audit.push(entry)
      return entry
    },
    async listAudit(tenant, options = {}) {
      h.open()
      const limit = pageLimit(options.limit)
      const before = options.before ?? Number.MAX_SAFE_INTEGER
      return audit
        .filter((e) => e.tenant === tenant && e.id < before && (options.action === undefined || e.action === options.action))
        .reverse()
        .slice(0, limit)
    },
  }
}
