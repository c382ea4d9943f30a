/**
 * Snapshots and restore for admins: take, list, show, diff, restore (always after a safety
 * snapshot, so restoring that one undoes it), with an audit entry for every restore.
 */
import * as Y from 'yjs'
import type { LedgerIndex } from '../../sync/ledger-index.js'
import { applyRestore, isEmptyPlan, planRestore, viewOf, viewOfState } from '../../sync/restore.js'
import type { InventoryView, RestorePlan } from '../../sync/restore.js'
import type { DocumentHost } from '../documents/host.js'
import type { SnapshotMeta, SnapshotTrigger } from '../storage/snapshot-types.js'
import type { Storage } from '../storage/types.js'

export class SnapshotNotFound extends Error {
  override readonly name = 'SnapshotNotFound'
}

export interface SnapshotItem {
  readonly id: string
  readonly sku: string
  readonly name: string
  readonly archived: boolean
  readonly onHand: number
  readonly byLocation: Readonly<Record<string, number>>
}

export interface SnapshotContents {
  readonly snapshot: SnapshotMeta
  readonly items: SnapshotItem[]
  readonly locations: Array<{ id: string; name: string; archived: boolean }>
}

/** What a restore would change, with names people recognise. */
export interface SnapshotDiff {
  readonly snapshot: SnapshotMeta
  readonly itemsAdded: Array<{ id: string; sku: string; name: string }>
  readonly itemsRemoved: Array<{ id: string; sku: string; name: string }>
  readonly fieldsChanged: Array<{ kind: 'item' | 'location'; id: string; label: string; field: string; now: unknown; snapshot: unknown }>
  readonly locationsAdded: Array<{ id: string; name: string }>
  readonly locationsRemoved: Array<{ id: string; name: string }>
  readonly quantities: Array<{ item: string; sku: string; location: string; locationName: string; now: number; snapshot: number; delta: number }>
  readonly unitsDelta: number
}

export interface RestoreResult {
  /** The safety snapshot taken right before; restoring it undoes this restore. */
  readonly preRestore: SnapshotMeta
  readonly diff: SnapshotDiff
  readonly movementsWritten: number
  readonly auditId: number
}

export interface SnapshotRetention {
  /** Scheduled snapshots kept per tenant, newest first. @default 168 (a week of hourly snapshots) */
  readonly keepScheduled: number
  /** Manual and pre-restore snapshots are kept this long. @default 90 days */
  readonly keepDays: number
}

export const DEFAULT_RETENTION: SnapshotRetention = { keepScheduled: 168, keepDays: 90 }

const str = (fields: Readonly<Record<string, unknown>> | undefined, key: string) => {
  const v = fields?.[key]
  return typeof v === 'string' ? v : ''
}

const summarize = (meta: SnapshotMeta, live: InventoryView, target: InventoryView, plan: RestorePlan): SnapshotDiff => {
  const item = (id: string) => live.items.get(id) ?? target.items.get(id)
  const location = (id: string) => live.locations.get(id) ?? target.locations.get(id)
  const quantities = plan.quantities.map((q) => ({
    item: q.item,
    sku: str(item(q.item), 'sku'),
    location: q.location,
    locationName: str(location(q.location), 'name'),
    now: q.from,
    snapshot: q.to,
    delta: q.to - q.from,
  }))
  const archivedNow = (fields: Readonly<Record<string, unknown>> | undefined) => fields?.archived === true
  return {
    snapshot: meta,
    itemsAdded: plan.itemsAddedSince.map((id) => ({ id, sku: str(item(id), 'sku'), name: str(item(id), 'name') })),
    // Removed since the snapshot: archived now but live then, or missing entirely.
    itemsRemoved: [
      ...plan.itemsMissing,
      ...plan.itemFields.filter((f) => f.field === 'archived' && f.to === false && archivedNow(live.items.get(f.id))).map((f) => f.id),
    ].map((id) => ({ id, sku: str(item(id), 'sku'), name: str(item(id), 'name') })),
    fieldsChanged: [
      ...plan.itemFields.filter((f) => f.field !== 'archived').map((f) => ({ kind: 'item' as const, id: f.id, label: str(item(f.id), 'sku'), field: f.field, now: f.from, snapshot: f.to })),
      ...plan.locationFields.filter((f) => f.field !== 'archived').map((f) => ({ kind: 'location' as const, id: f.id, label: str(location(f.id), 'name'), field: f.field, now: f.from, snapshot: f.to })),
    ],
    locationsAdded: plan.locationsAddedSince.map((id) => ({ id, name: str(location(id), 'name') })),
    locationsRemoved: [
      ...plan.locationsMissing,
      ...plan.locationFields.filter((f) => f.field === 'archived' && f.to === false).map((f) => f.id),
    ].map((id) => ({ id, name: str(location(id), 'name') })),
    quantities,
    unitsDelta: quantities.reduce((n, q) => n + q.delta, 0),
  }
}

export class SnapshotService {
  constructor(
    private readonly storage: Storage,
    private readonly host: DocumentHost,
    private readonly retention: SnapshotRetention = DEFAULT_RETENTION,
    private readonly now: () => number = Date.now,
  ) {}

  private capture(tenant: string, doc: Y.Doc, index: LedgerIndex, trigger: SnapshotTrigger, by: string | null, reason: string) {
    const counts = index.counts()
    return this.storage.saveSnapshot({
      tenant,
      trigger,
      createdBy: by,
      reason,
      itemCount: counts.items,
      totalUnits: counts.units,
      state: Y.encodeStateAsUpdate(doc),
    })
  }

  create(tenant: string, options: { trigger: SnapshotTrigger; by: string | null; reason: string }): Promise<SnapshotMeta> {
    return this.host.exclusive(tenant, ({ doc, index }) => this.capture(tenant, doc, index, options.trigger, options.by, options.reason))
  }

  list(tenant: string, limit?: number): Promise<SnapshotMeta[]> {
    return this.storage.listSnapshots(tenant, limit === undefined ? {} : { limit })
  }

  private async load(tenant: string, id: string) {
    const snapshot = await this.storage.getSnapshot(tenant, id)
    if (!snapshot) throw new SnapshotNotFound(`tenant ${tenant} has no snapshot ${id}`)
    const { state, ...meta } = snapshot
    return { meta, view: viewOfState(state) }
  }

  /** Items and on-hand per location as of the snapshot. */
  async contents(tenant: string, id: string): Promise<SnapshotContents> {
    const { meta, view } = await this.load(tenant, id)
    const items = [...view.items].map(([itemId, fields]) => {
      const byLocation = Object.fromEntries(view.onHand.get(itemId) ?? [])
      return {
        id: itemId,
        sku: str(fields, 'sku'),
        name: str(fields, 'name'),
        archived: fields.archived === true,
        onHand: Object.values(byLocation).reduce((n, q) => n + q, 0),
        byLocation,
      }
    })
    const locations = [...view.locations].map(([locId, f]) => ({ id: locId, name: str(f, 'name'), archived: f.archived === true }))
    return { snapshot: meta, items: items.sort((a, b) => a.sku.localeCompare(b.sku)), locations }
  }

  /** What restoring this snapshot would change against the document as it is now. */
  async diff(tenant: string, id: string): Promise<SnapshotDiff> {
    const { meta, view } = await this.load(tenant, id)
    return this.host.exclusive(tenant, async ({ doc, index }) => {
      const live = viewOf(doc, index)
      return summarize(meta, live, view, planRestore(live, view))
    })
  }

  /**
   * Restores a snapshot as a forward change, right after a safety snapshot, in one exclusive step:
   * no device's change lands between the safety snapshot, the plan and the write.
   */
  async restore(tenant: string, id: string, by: string): Promise<RestoreResult> {
    const { meta, view } = await this.load(tenant, id)
    return this.host.exclusive(tenant, async (session) => {
      const preRestore = await this.capture(tenant, session.doc, session.index, 'pre-restore', by, `before restoring ${id}`)
      const live = viewOf(session.doc, session.index)
      const plan = planRestore(live, view)
      const diff = summarize(meta, live, view, plan)
      const written = isEmptyPlan(plan)
        ? []
        : await session.change('restore', (doc) =>
            applyRestore(doc, view, plan, {
              by,
              reason: `restore of snapshot ${id}`,
              at: this.now(),
              origin: { source: 'server', reason: 'restore' },
            }),
          )
      const audit = await this.storage.appendAudit({
        tenant,
        actor: by,
        action: 'restore',
        detail: {
          snapshot: id,
          snapshotTakenAt: meta.createdAt,
          preRestoreSnapshot: preRestore.id,
          movementsWritten: written.length,
          itemsArchived: diff.itemsAdded.length,
          itemsBroughtBack: diff.itemsRemoved.length,
          fieldsChanged: diff.fieldsChanged.length,
          quantitiesChanged: diff.quantities.length,
          unitsDelta: diff.unitsDelta,
        },
      })
      return { preRestore, diff, movementsWritten: written.length, auditId: audit.id }
    })
  }

  /** Deletes what the retention policy no longer keeps. Returns how many were deleted. */
  async prune(tenant: string): Promise<number> {
    let deleted = 0
    const scheduled = await this.storage.listSnapshots(tenant, { trigger: 'schedule', limit: 1000 })
    for (const s of scheduled.slice(this.retention.keepScheduled)) if (await this.storage.deleteSnapshot(tenant, s.id)) deleted++
    const cutoff = this.now() - this.retention.keepDays * 24 * 3600 * 1000
    for (const trigger of ['manual', 'pre-restore'] as const) {
      for (const s of await this.storage.listSnapshots(tenant, { trigger, limit: 1000 })) {
        if (s.createdAt < cutoff && (await this.storage.deleteSnapshot(tenant, s.id))) deleted++
      }
    }
    return deleted
  }
}
