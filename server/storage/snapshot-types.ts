/** Snapshots of tenant documents and the audit log: the storage side of restore. */

/** Why a snapshot exists: the schedule, an admin's request, or the safety copy before a restore. */
export type SnapshotTrigger = 'schedule' | 'manual' | 'pre-restore'
export const SNAPSHOT_TRIGGERS: readonly SnapshotTrigger[] = ['schedule', 'manual', 'pre-restore']

export interface SnapshotMeta {
  readonly id: string
  readonly tenant: string
  readonly createdAt: number
  readonly trigger: SnapshotTrigger
  /** The user who asked for it (manual, pre-restore), or null (schedule). */
  readonly createdBy: string | null
  readonly reason: string
  /** Items not archived at the time. */
  readonly itemCount: number
  /** Sum of on-hand over every item at the time. */
  readonly totalUnits: number
  /** Bytes of the stored state. */
  readonly byteSize: number
}

export interface StoredSnapshot extends SnapshotMeta {
  /** The whole document as one Yjs update. */
  readonly state: Uint8Array
}

export interface NewSnapshot {
  readonly tenant: string
  readonly trigger: SnapshotTrigger
  readonly createdBy: string | null
  readonly reason: string
  readonly itemCount: number
  readonly totalUnits: number
  readonly state: Uint8Array
}

/** The metadata of a new snapshot, as every implementation records it. */
export const snapshotMeta = (snapshot: NewSnapshot, id: string, createdAt: number): SnapshotMeta => ({
  id,
  tenant: snapshot.tenant,
  createdAt,
  trigger: snapshot.trigger,
  createdBy: snapshot.createdBy,
  reason: snapshot.reason,
  itemCount: snapshot.itemCount,
  totalUnits: snapshot.totalUnits,
  byteSize: snapshot.state.byteLength,
})

export interface SnapshotStore {
  saveSnapshot(snapshot: NewSnapshot): Promise<SnapshotMeta>
  /** Newest first. */
  listSnapshots(tenant: string, options?: { readonly trigger?: SnapshotTrigger; readonly limit?: number }): Promise<SnapshotMeta[]>
  getSnapshot(tenant: string, id: string): Promise<StoredSnapshot | undefined>
  /** Resolves to whether a snapshot was deleted. */
  deleteSnapshot(tenant: string, id: string): Promise<boolean>
}

/** One thing that happened to a tenant that an admin may need to account for (a restore, an import). */
export interface AuditEntry {
  readonly id: number
  readonly tenant: string
  readonly at: number
  /** User id, or '@server' for the server's own duties. */
  readonly actor: string
  readonly action: string
  /** JSON-serialisable detail: for a restore, the snapshot and a summary of what changed. */
  readonly detail: unknown
}

export interface AuditStore {
  appendAudit(entry: { readonly tenant: string; readonly actor: string; readonly action: string; readonly detail: unknown }): Promise<AuditEntry>
  /** Newest first; `before` is an entry id from a previous page. */
  listAudit(tenant: string, options?: { readonly action?: string; readonly limit?: number; readonly before?: number }): Promise<AuditEntry[]>
}
