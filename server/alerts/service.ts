/**
 * The alert duty of one server: after each stored change, the conditions of what changed
 * (sync/alerts.ts) are compared with the tenant's open alerts; a new condition opens an alert, a
 * cleared one resolves it. The open alerts live in the store with their history, in the document's
 * `alerts` map for offline devices, on the live stream, and go out to webhooks.
 *
 * The relay's `changed` hook runs inside the room's queue, so it only derives the conditions of the
 * items it is told about (cheap, and from exactly the state that was stored) and leaves them in a
 * per-tenant pending map, newest per scope. A flush on the tenant's own serial queue, at most one per
 * `coalesceMs`, then does the slow work in order: a burst of 500 movements is judged in a few
 * flushes, and opens at most one alert per key.
 *
 * One writer per tenant: every flush starts by asking the duty lease (server/scale/leases.ts). With
 * one instance it is always held. With several, only the holder opens and resolves; the others drop
 * what they derived and reconcile the whole document if the lease comes to them. The store's "one
 * open alert per key" (a unique index) backs this up if two ever race.
 */
import type * as Y from 'yjs'
import { deriveAllConditions, itemConditions, itemScope, scopeOf, skuCondition, skuOfItem, skuScope } from '../../sync/alerts.js'
import type { AlertCondition } from '../../sync/alerts.js'
import type { LedgerIndex } from '../../sync/ledger-index.js'
import { ROOT } from '../../sync/schema.js'
import type { DocumentHost } from '../documents/host.js'
import { SerialQueue } from '../relay/queue.js'
import type { ChangeEvent } from '../relay/types.js'
import type { DutyLeases } from '../scale/leases.js'
import type { AlertEventRecord, AlertFilter, AlertRecord } from '../storage/alert-types.js'
import { StorageError } from '../storage/types.js'
import type { Storage } from '../storage/types.js'
import { mirroredAlert } from './notice.js'
import type { AlertNotice } from './notice.js'
import type { Fanout } from '../scale/fanout.js'
import type { WebhookDispatcher } from './webhooks.js'

export class AlertNotFound extends Error {
  override readonly name = 'AlertNotFound'
}

/** An acknowledgement of an alert whose condition has cleared already. */
export class AlertAlreadyResolved extends Error {
  override readonly name = 'AlertAlreadyResolved'
}

export interface AlertSettings {
  /**
   * Changes of one tenant within this window are judged together.
   * @default 100 ms — a burst costs a handful of flushes; a person sees the alert at once.
   */
  readonly coalesceMs: number
  /** First wait before retrying after the store failed; doubles up to 30 s. @default 1 s */
  readonly retryMs: number
  /**
   * An instance that is not the tenant's duty holder asks again this long after it dropped a change,
   * and takes the duty over (reconciling the whole document) if the holder has let the lease go.
   * @default 15 s — longer than a lease lasts without renewal (10 s, server/scale/leases.ts).
   */
  readonly standbyRecheckMs: number
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = { coalesceMs: 100, retryMs: 1000, standbyRecheckMs: 15_000 }
const MAX_RETRY_MS = 30_000
/** Page size when loading a tenant's open alerts. */
const PAGE = 1000

export interface AlertServiceDeps {
  readonly storage: Storage
  /** Where the document is (the relay): for the mirror and for whole-document reconciliation. */
  readonly host: DocumentHost
  readonly leases: DutyLeases
  readonly webhooks: WebhookDispatcher | null
  /** Carries notices to live streams connected to other instances. @default none (one instance) */
  readonly fanout?: Fanout
}

interface Subscriber {
  readonly notify: (notice: AlertNotice) => void
  readonly end: () => void
}

/** What the duty knows about one tenant. */
class TenantAlerts {
  constructor(readonly id: string) {}
  readonly queue = new SerialQueue()
  /** Open alerts by key, as stored; null until loaded (or after a failure, to load again). */
  open: Map<string, AlertRecord> | null = null
  /** The document copy the pending conditions were derived from; a new copy means "reconcile all". */
  doc: Y.Doc | null = null
  /** Each item's SKU as last seen, to know which SKU an item left. */
  skuOf = new Map<string, string>()
  /** Conditions per scope derived since the last flush, the newest per scope. */
  pending = new Map<string, AlertCondition[]>()
  /** Reconcile the whole document at the next flush (first sight, lease handed over, a failure). */
  full = true
  /** A change arrived since the last flush (also while `full`, when nothing is derived). */
  changed = false
  timer: NodeJS.Timeout | null = null
  failures = 0
}

export class AlertService {
  private readonly tenants = new Map<string, TenantAlerts>()
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  private readonly settings: AlertSettings
  /** False once the documents are going away (shutdown): no more mirror writes or reconciliations. */
  private documents = true
  private closed = false

  constructor(
    private readonly deps: AlertServiceDeps,
    settings: Partial<AlertSettings> = {},
  ) {
    this.settings = { ...DEFAULT_ALERT_SETTINGS, ...settings }
    // Streams connected here hear of alerts whichever instance holds the tenant's duty.
    this.stopNotices = deps.fanout?.onNotice((tenant, json) => this.notifyLocal(JSON.parse(json) as AlertNotice, tenant)) ?? null
  }

  private readonly stopNotices: (() => void) | null

  private notifyLocal(notice: AlertNotice, tenant = notice.tenant): void {
    for (const s of this.subscribers.get(tenant) ?? []) s.notify(notice)
  }

  private tenant(id: string): TenantAlerts {
    let t = this.tenants.get(id)
    if (!t) {
      t = new TenantAlerts(id)
      this.tenants.set(id, t)
    }
    return t
  }

  // ---- the relay's hook ---------------------------------------------------------------------

  /** RelayHooks.changed: synchronous and cheap; runs inside the room's queue, so it never waits on it. */
  changed(event: ChangeEvent): void {
    if (this.closed) return
    const t = this.tenant(event.tenant)
    if (t.doc !== event.doc) {
      // A document copy not seen before (first change since start, or the room was reloaded):
      // whatever happened meanwhile is found by reconciling the whole of it.
      t.doc = event.doc
      t.full = true
      t.pending.clear()
    }
    t.changed = true
    if (!t.full) this.derive(t, event.index, event.changedItems)
    this.schedule(t, this.settings.coalesceMs)
  }

  private derive(t: TenantAlerts, index: LedgerIndex, items: ReadonlySet<string>): void {
    for (const item of items) {
      t.pending.set(itemScope(item), itemConditions(index, item))
      const before = t.skuOf.get(item)
      const after = skuOfItem(index, item)
      if (after === undefined) t.skuOf.delete(item)
      else t.skuOf.set(item, after)
      for (const sku of new Set([before, after])) {
        if (sku === undefined) continue
        const c = skuCondition(index, sku)
        t.pending.set(skuScope(sku), c ? [c] : [])
      }
    }
  }

  private schedule(t: TenantAlerts, delayMs: number): void {
    if (t.timer || this.closed) return
    t.timer = setTimeout(() => {
      t.timer = null
      void t.queue.run(() => this.flush(t))
    }, delayMs)
    t.timer.unref()
  }

  // ---- the flush: open, resolve, tell ---------------------------------------------------------

  private async flush(t: TenantAlerts): Promise<void> {
    if (!t.full && t.pending.size === 0) return
    const tenant = t.id
    const changed = t.changed
    t.changed = false
    try {
      // One writer per tenant: the lease is the lock around this duty.
      if (!(await this.deps.leases.holds(tenant))) {
        // The holder judges what it sees; what only this instance saw is judged here once the
        // lease comes to it, by reconciling the whole document. Ask once more later in case it does.
        t.pending.clear()
        t.full = true
        t.open = null
        if (changed) this.schedule(t, this.settings.standbyRecheckMs)
        return
      }
      await this.judge(tenant, t)
      t.failures = 0
    } catch (err) {
      // Nothing is lost: the next flush reconciles the whole document against the store.
      t.failures++
      t.full = true
      t.open = null
      const wait = Math.min(MAX_RETRY_MS, this.settings.retryMs * 2 ** (t.failures - 1))
      console.error(`[alerts] judging the alerts of ${tenant} failed; reconciling again in ${wait} ms`, err)
      this.schedule(t, wait)
    }
  }

  private async loadOpen(tenant: string): Promise<Map<string, AlertRecord>> {
    const open = new Map<string, AlertRecord>()
    for (let page = await this.deps.storage.listAlerts(tenant, { status: 'open', limit: PAGE }); page.length > 0; ) {
      for (const a of page) open.set(a.key, a)
      const last = page[page.length - 1]
      page = page.length < PAGE || !last ? [] : await this.deps.storage.listAlerts(tenant, { status: 'open', limit: PAGE, before: last.id })
    }
    return open
  }

  /** The whole document's conditions, read in the room's queue (so it equals what was stored). */
  private async reconcileAll(tenant: string, t: TenantAlerts): Promise<Map<string, AlertCondition[]> | null> {
    if (!this.documents) return null
    return this.deps.host.exclusive(tenant, async ({ doc, index }) => {
      // Every change up to here is in what is derived now; later ones arrive through the hook.
      t.doc = doc
      t.full = false
      t.pending.clear()
      t.skuOf = new Map()
      for (const item of doc.getMap(ROOT.items).keys()) {
        const sku = skuOfItem(index, item)
        if (sku !== undefined) t.skuOf.set(item, sku)
      }
      return deriveAllConditions(index)
    })
  }

  private async judge(tenant: string, t: TenantAlerts): Promise<void> {
    const full = t.full
    if (full) t.open = null // reconciling: the store is the truth, whatever this process remembers
    const open = (t.open ??= await this.loadOpen(tenant))
    let batch: Map<string, AlertCondition[]>
    if (full) {
      const all = await this.reconcileAll(tenant, t)
      if (!all) return
      batch = all
      for (const a of open.values()) if (!batch.has(scopeOf(a))) batch.set(scopeOf(a), []) // e.g. an item no longer there
    } else {
      batch = t.pending
      t.pending = new Map()
    }

    const byScope = new Map<string, AlertRecord[]>()
    for (const a of open.values()) {
      const scope = scopeOf(a)
      byScope.set(scope, [...(byScope.get(scope) ?? []), a])
    }
    const toResolve: AlertRecord[] = []
    const toOpen: AlertCondition[] = []
    for (const [scope, conditions] of batch) {
      const holding = new Set(conditions.map((c) => c.key))
      for (const a of byScope.get(scope) ?? []) if (!holding.has(a.key)) toResolve.push(a)
      for (const c of conditions) if (!open.has(c.key)) toOpen.push(c)
    }

    const notices: AlertNotice[] = []
    const mirror = new Map<string, AlertRecord | null>()
    // Resolve first: an item going from low to out resolves low_stock, then opens out_of_stock.
    for (const a of toResolve) {
      open.delete(a.key)
      mirror.set(a.key, null)
      const resolved = await this.deps.storage.resolveAlert(tenant, a.id).catch((err: unknown) => {
        if (err instanceof StorageError && (err.code === 'conflict' || err.code === 'not-found')) return null // resolved elsewhere
        throw err
      })
      if (resolved) notices.push({ event: 'alert.resolved', tenant, alert: resolved })
    }
    for (const c of toOpen) {
      const opened = await this.deps.storage
        .openAlert({ tenant, key: c.key, kind: c.kind, severity: c.severity, item: c.item, location: c.location ?? null, sku: c.sku, detail: c.detail })
        .catch((err: unknown) => {
          if (err instanceof StorageError && err.code === 'conflict') return null // another writer opened it: theirs to announce
          throw err
        })
      if (!opened) {
        t.open = null // load the other writer's alert next time
        continue
      }
      open.set(c.key, opened)
      mirror.set(c.key, opened)
      notices.push({ event: 'alert.opened', tenant, alert: opened })
    }

    await this.publish(notices)
    await this.writeMirror(tenant, full ? open : mirror, full)
  }

  /**
   * Brings the document's `alerts` map in step: the given keys (null = remove), or with `whole`,
   * exactly the open alerts given. A server change, so every device (offline ones later) gets it.
   */
  private async writeMirror(tenant: string, alerts: ReadonlyMap<string, AlertRecord | null>, whole: boolean): Promise<void> {
    if (!this.documents || (alerts.size === 0 && !whole)) return
    await this.deps.host.exclusive(tenant, (session) =>
      session.change('alerts', (doc) => {
        const map = doc.getMap<unknown>(ROOT.alerts)
        if (whole) for (const key of [...map.keys()]) if (!alerts.has(key)) map.delete(key)
        for (const [key, a] of alerts) {
          if (a === null) {
            if (map.has(key)) map.delete(key)
            continue
          }
          const record = mirroredAlert(a)
          if (JSON.stringify(map.get(key)) !== JSON.stringify(record)) map.set(key, record)
        }
      }),
    )
  }

  private async publish(notices: readonly AlertNotice[]): Promise<void> {
    for (const notice of notices) {
      this.notifyLocal(notice)
      this.deps.fanout?.publishNotice(notice.tenant, JSON.stringify(notice)).catch((err: unknown) => {
        console.error(`[alerts] could not pass ${notice.event} ${notice.alert.id} to the other instances`, err)
      })
    }
    for (const notice of notices) {
      try {
        await this.deps.webhooks?.enqueue(notice)
      } catch (err) {
        console.error(`[alerts] could not queue webhook deliveries of ${notice.event} ${notice.alert.id} for ${notice.tenant}`, err)
      }
    }
  }

  // ---- people: list, look, acknowledge, listen --------------------------------------------------

  list(tenant: string, options: { status?: AlertFilter; limit?: number; before?: string } = {}): Promise<AlertRecord[]> {
    return this.deps.storage.listAlerts(tenant, options)
  }

  async get(tenant: string, id: string): Promise<{ alert: AlertRecord; events: AlertEventRecord[] }> {
    const alert = await this.deps.storage.getAlert(tenant, id)
    if (!alert) throw new AlertNotFound(`tenant ${tenant} has no alert ${id}`)
    return { alert, events: await this.deps.storage.listAlertEvents(tenant, id) }
  }

  /** Acknowledges an open alert: it stays open until its condition clears. Again: nothing changes. */
  acknowledge(tenant: string, id: string, by: string): Promise<AlertRecord> {
    const t = this.tenant(tenant)
    return t.queue.run(async () => {
      const before = await this.deps.storage.getAlert(tenant, id)
      if (!before) throw new AlertNotFound(`tenant ${tenant} has no alert ${id}`)
      if (before.status === 'resolved') throw new AlertAlreadyResolved(`alert ${id} is resolved already: its condition cleared`)
      if (before.acknowledgedAt !== null) return before
      const after = await this.deps.storage.acknowledgeAlert(tenant, id, by)
      if (t.open?.has(after.key)) t.open.set(after.key, after)
      await this.publish([{ event: 'alert.acknowledged', tenant, alert: after }])
      try {
        await this.writeMirror(tenant, new Map([[after.key, after]]), false)
      } catch (err) {
        t.full = true // the acknowledgement is stored; the mirror catches up at the next reconciliation
        console.error(`[alerts] the acknowledgement of ${id} in ${tenant} is stored but not yet in the document`, err)
      }
      return after
    })
  }

  /** Live notices of one tenant, until the returned function is called or the service closes (`end`). */
  subscribe(tenant: string, notify: (notice: AlertNotice) => void, end: () => void): () => void {
    const s: Subscriber = { notify, end }
    const set = this.subscribers.get(tenant) ?? new Set()
    set.add(s)
    this.subscribers.set(tenant, set)
    return () => {
      set.delete(s)
      if (set.size === 0 && this.subscribers.get(tenant) === set) this.subscribers.delete(tenant)
    }
  }

  get subscriberCount(): number {
    let n = 0
    for (const set of this.subscribers.values()) n += set.size
    return n
  }

  /**
   * Resolves once every change seen so far has been judged (tests, shutdown). Gives up after a few
   * rounds if the store keeps failing: the retry stays scheduled.
   */
  async settled(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const busy = [...this.tenants.values()].filter((t) => t.timer !== null || t.queue.size > 0)
      if (busy.length === 0) return
      for (const t of busy) {
        if (!t.timer) continue
        clearTimeout(t.timer)
        t.timer = null
        void t.queue.run(() => this.flush(t))
      }
      await Promise.all(busy.map((t) => t.queue.idle()))
    }
  }

  /**
   * Called before the documents go away (shutdown): from now on nothing is written to them, and
   * whole-document reconciliation waits for the next start. Changes still arrive and are judged.
   */
  releaseDocuments(): void {
    this.documents = false
  }

  /** Judges what is pending, then ends every live stream. */
  async close(): Promise<void> {
    this.releaseDocuments()
    await this.settled()
    this.closed = true
    this.stopNotices?.()
    for (const set of this.subscribers.values()) for (const s of set) s.end()
    this.subscribers.clear()
  }
}
