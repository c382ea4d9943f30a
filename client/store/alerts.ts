/**
 * The alerts a device shows: the server's open alerts as mirrored in the document (they arrive with
 * sync and stay readable offline), next to what the device's own state implies (sync/alerts.ts: the
 * same derivation the server runs). Kept incrementally from the index's change notices, the way the
 * server does it: a change costs the conditions of the items it touched, not the whole tenant.
 * The server's alert history (resolved ones too) comes over REST when online and is kept in Dexie.
 */
import { itemConditions, itemScope, readAlertMirror, skuCondition, skuOfItem, skuScope } from '../../sync/alerts.js'
import type { AlertCondition, MirroredAlert, PredictedAlert } from '../../sync/alerts.js'
import type { ChangeSet } from '../../sync/changes.js'
import type { LedgerIndex } from '../../sync/ledger-index.js'
import { ROOT } from '../../sync/schema.js'
import type { AlertRecordJson, TenantApi } from './api.js'
import type { UserDb } from './databases.js'

export class AlertModel {
  private readonly byScope = new Map<string, AlertCondition[]>()
  private readonly skuOf = new Map<string, string>()
  private mirror: Map<string, MirroredAlert>
  private readonly listeners = new Set<() => void>()
  private cached: PredictedAlert[] | null = null
  version = 0

  constructor(private readonly index: LedgerIndex) {
    this.mirror = readAlertMirror(index.doc)
    const skus = new Set<string>()
    for (const item of index.doc.getMap(ROOT.items).keys()) {
      this.byScope.set(itemScope(item), itemConditions(index, item))
      const sku = skuOfItem(index, item)
      if (sku !== undefined) {
        this.skuOf.set(item, sku)
        skus.add(sku)
      }
    }
    for (const sku of skus) this.refreshSku(sku)
  }

  private refreshSku(sku: string): void {
    const c = skuCondition(this.index, sku)
    if (c) this.byScope.set(skuScope(sku), [c])
    else this.byScope.delete(skuScope(sku))
  }

  /** Follows one transaction: the touched items' conditions, their SKUs', and the mirror. */
  changed(items: ReadonlySet<string>, changes: ChangeSet): void {
    const skus = new Set<string>()
    for (const item of items) {
      this.byScope.set(itemScope(item), itemConditions(this.index, item))
      const before = this.skuOf.get(item)
      const after = skuOfItem(this.index, item)
      if (before !== undefined) skus.add(before)
      if (after !== undefined) {
        skus.add(after)
        this.skuOf.set(item, after)
      } else this.skuOf.delete(item)
    }
    for (const sku of skus) this.refreshSku(sku)
    const mirrorChanged = changes.serverKeys.some((k) => k.root === ROOT.alerts)
    if (mirrorChanged) this.mirror = readAlertMirror(this.index.doc)
    if (items.size === 0 && !mirrorChanged) return
    this.cached = null
    this.version++
    for (const l of this.listeners) l()
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** confirmed, unconfirmed (implied here, not yet opened by the server) and clearing, by key. */
  list(): PredictedAlert[] {
    if (this.cached) return this.cached
    const out: PredictedAlert[] = []
    const seen = new Set<string>()
    for (const conditions of this.byScope.values()) {
      for (const c of conditions) {
        seen.add(c.key)
        const alert = this.mirror.get(c.key)
        out.push(alert ? { state: 'confirmed', key: c.key, condition: c, alert } : { state: 'unconfirmed', key: c.key, condition: c })
      }
    }
    for (const [key, alert] of this.mirror) if (!seen.has(key)) out.push({ state: 'clearing', key, alert })
    this.cached = out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return this.cached
  }

  /** The live count: alerts open on the server or implied here, less those acknowledged. */
  activeCount(): number {
    return this.list().filter((a) => a.state !== 'clearing' && !(a.state === 'confirmed' && a.alert.acknowledged)).length
  }
}

/** The server's alert records (open and resolved), fetched when online and kept for offline. */
export class AlertHistory {
  constructor(
    private readonly db: UserDb,
    private readonly api: TenantApi,
  ) {}

  async cached(): Promise<AlertRecordJson[]> {
    return (await this.db.alerts.orderBy('openedAt').reverse().limit(100).toArray()).map((a) => a.record)
  }

  async refresh(): Promise<AlertRecordJson[]> {
    const { alerts } = await this.api.alerts('all', 100)
    await this.db.transaction('rw', this.db.alerts, async () => {
      await this.db.alerts.clear()
      await this.db.alerts.bulkPut(alerts.map((a) => ({ id: a.id, openedAt: a.openedAt, record: a })))
    })
    return alerts
  }

  async acknowledge(id: string): Promise<AlertRecordJson> {
    const { alert } = await this.api.acknowledge(id)
    await this.db.alerts.put({ id: alert.id, openedAt: alert.openedAt, record: alert })
    return alert
  }
}
