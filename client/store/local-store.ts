/**
 * The device's copy of one tenant, for one signed-in user. Framework-free: the React app and the
 * Node tests use it the same way.
 *
 * - The document lives in y-indexeddb (`qm:<tenant>:<userId>`), so the app opens and works with no
 *   network; every change is written there before anything else happens.
 * - A WebsocketProvider syncs it through the server with the access token (`ext=1` for the durable
 *   and rejected messages). y-websocket's own BroadcastChannel is off: it is keyed by tenant only.
 *   TabSync keeps this user's tabs in step instead.
 * - The token is refreshed before it expires and whenever the server closes with 4440.
 * - Dexie (`qm-data:<tenant>:<userId>`) keeps the changes waiting for the server, what it refused,
 *   history and alerts fetched over REST, and the list's rows for a fast first render.
 *
 * A new device with an empty copy downloads the document over HTTP first, with progress, and then
 * syncs the rest over the relay.
 */
import type * as decoding from 'lib0/decoding'
import { liveQuery } from 'dexie'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { Inventory } from '../../sync/inventory.js'
import type { ItemPatch, NewItem } from '../../sync/inventory.js'
import { LedgerIndex } from '../../sync/ledger-index.js'
import { MESSAGE, readDurable, readRejected } from '../../sync/protocol.js'
import type { Movement } from '../../sync/schema.js'
import { AlertHistory, AlertModel } from './alerts.js'
import { TenantApi } from './api.js'
import { DeviceDb, UserDb, docDbName } from './databases.js'
import type { PendingChange, RejectedEntry } from './databases.js'
import { StoreError } from './errors.js'
import { ItemHistory } from './history.js'
import { ItemListModel } from './item-list.js'
import { PendingTracker, describeChange, summarize } from './pending.js'
import type { PendingSummary } from './pending.js'
import { Presence } from './presence.js'
import { refreshDelay, refreshSession, relayUrl } from './session.js'
import type { Session } from './session.js'
import { TabSync, tabChannelName } from './tab-sync.js'

/** Where the store learns whether the device has a network. */
export interface OnlineSource {
  isOnline(): boolean
  subscribe(listener: (online: boolean) => void): () => void
}

/** The browser's view (navigator.onLine and the online/offline events); always online elsewhere. */
export const browserOnline = (): OnlineSource => {
  const target = globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener' | 'navigator'>>
  return {
    isOnline: () => target.navigator?.onLine ?? true,
    subscribe: (listener) => {
      if (!target.addEventListener || !target.removeEventListener) return () => undefined
      const on = () => listener(true)
      const off = () => listener(false)
      target.addEventListener('online', on)
      target.addEventListener('offline', off)
      return () => {
        target.removeEventListener?.('online', on)
        target.removeEventListener?.('offline', off)
      }
    },
  }
}

export type Connection = 'online' | 'offline' | 'connecting'

export type StoreProblem =
  | 'sign-in-again'
  | 'forbidden'
  | 'too-many-connections'
  | 'document-too-large'
  | 'server-error'

export interface StoreStatus {
  /** loading: reading IndexedDB; downloading: a new device fetches the document; ready: usable. */
  readonly phase: 'loading' | 'downloading' | 'ready' | 'closed'
  readonly download: { readonly loaded: number; readonly total: number | null } | null
  readonly connection: Connection
  readonly pending: PendingSummary
  /** When the server last said what it has stored (message `durable`), this device's clock. */
  readonly lastSavedAt: number | null
  readonly rejected: readonly RejectedEntry[]
  readonly problem: { readonly code: StoreProblem; readonly message: string } | null
}

/** The last stock action of this user on this device: what "undo" reverses. */
export interface LastAction {
  readonly movementId: string
  readonly label: string
  readonly item: string
}

export interface LocalStoreOptions {
  /** http(s)://host:port of the Quartermaster server. */
  readonly serverUrl: string
  readonly session: Session
  readonly deviceDb: DeviceDb
  readonly online?: OnlineSource
  readonly fetch?: typeof fetch
  /** Node has no WebSocket before v22: tests pass `ws`. */
  readonly WebSocketPolyfill?: typeof WebSocket
  readonly now?: () => number
  /** Reconnect backoff cap. @default 2500 ms (y-websocket's) */
  readonly maxBackoffMs?: number
  /** Retry after a refusal that may pass (too many connections, a failed refresh). @default 15 s */
  readonly retryMs?: number
}

const EMPTY_PENDING: PendingSummary = { count: 0, items: new Set(), oldestAt: null }
const REJECTED_SHOWN = 50

const isNumber = (v: unknown): v is number => typeof v === 'number'
const isLastAction = (v: unknown): v is LastAction =>
  typeof v === 'object' && v !== null && typeof (v as LastAction).movementId === 'string' && typeof (v as LastAction).label === 'string'

/** A performance mark where there is a timeline (browsers, Node): bench/pwa-first-render.ts reads them. */
const mark = (name: string): void => {
  globalThis.performance?.mark?.(name)
}

/** A document is empty when nobody has written to it yet (no client in its state vector). */
const isEmptyDoc = (doc: Y.Doc): boolean => Y.decodeStateVector(Y.encodeStateVector(doc)).size === 0

export class LocalStore {
  readonly doc = new Y.Doc()
  readonly db: UserDb
  readonly api: TenantApi
  readonly list: ItemListModel
  readonly alertHistory: AlertHistory
  readonly tenant: string
  readonly userId: string
  private session: Session
  private persistence: IndexeddbPersistence | null = null
  private indexRef: LedgerIndex | null = null
  private inventoryRef: Inventory | null = null
  private providerRef: WebsocketProvider | null = null
  private presenceRef: Presence | null = null
  private alertsRef: AlertModel | null = null
  private historyRef: ItemHistory | null = null
  private tabSync: TabSync | null = null
  private readonly pendingTracker: PendingTracker
  private readonly online: OnlineSource
  private readonly now: () => number
  private readonly listeners = new Set<() => void>()
  private readonly cleanups: Array<() => void> = []
  private refreshTimer: ReturnType<typeof setTimeout> | null = null
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private refreshing: Promise<boolean> | null = null
  private closed = false
  private statusValue: StoreStatus
  /** The last durable state vector: what the server has stored of everyone's changes. */
  private durable: Map<number, number> = new Map()
  lastAction: LastAction | null = null
  /** Milliseconds from `start()` to a usable document (IndexedDB read, download, index). */
  loadMs: number | null = null

  constructor(private readonly options: LocalStoreOptions) {
    this.session = options.session
    this.tenant = options.session.user.tenant
    this.userId = options.session.user.id
    this.db = new UserDb(this.tenant, this.userId)
    this.pendingTracker = new PendingTracker(this.db)
    this.online = options.online ?? browserOnline()
    this.now = options.now ?? Date.now
    this.api = new TenantApi({
      serverUrl: options.serverUrl,
      tenant: this.tenant,
      token: () => this.session.token,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    this.list = new ItemListModel(this.db)
    this.alertHistory = new AlertHistory(this.db, this.api)
    this.statusValue = {
      phase: 'loading',
      download: null,
      connection: this.online.isOnline() ? 'connecting' : 'offline',
      pending: EMPTY_PENDING,
      lastSavedAt: null,
      rejected: [],
      problem: null,
    }
  }

  // ---- what the UI reads ---------------------------------------------------------------------

  get status(): StoreStatus {
    return this.statusValue
  }

  /** useSyncExternalStore-style: called after every status change. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get user(): Session['user'] {
    return this.session.user
  }

  get readOnly(): boolean {
    return this.session.user.role === 'viewer'
  }

  get token(): string {
    return this.session.token
  }

  /** The Inventory API over the document, once it has loaded (phase ready). */
  get inventory(): Inventory {
    if (!this.inventoryRef) throw new StoreError('bad-response', 'the inventory has not loaded yet')
    return this.inventoryRef
  }

  get index(): LedgerIndex {
    if (!this.indexRef) throw new StoreError('bad-response', 'the inventory has not loaded yet')
    return this.indexRef
  }

  get ready(): boolean {
    return this.inventoryRef !== null
  }

  /** Alerts, derived once the list has shown (a whole-tenant pass), then kept up to date. */
  get alerts(): AlertModel | null {
    return this.alertsRef
  }

  get history(): ItemHistory {
    if (!this.historyRef) throw new StoreError('bad-response', 'the inventory has not loaded yet')
    return this.historyRef
  }

  get presence(): Presence | null {
    return this.presenceRef
  }

  get provider(): WebsocketProvider | null {
    return this.providerRef
  }

  private setStatus(patch: Partial<StoreStatus>): void {
    this.statusValue = { ...this.statusValue, ...patch }
    for (const l of this.listeners) l()
  }

  // ---- start and stop ------------------------------------------------------------------------

  /** Opens the local copy (and downloads it on a new device), then connects when online. */
  async start(): Promise<void> {
    const started = this.now()
    await this.db.open()
    // The kept rows first: they are what a person sees before anything else.
    const [lastSavedAt, lastAction] = await Promise.all([
      this.db.getMeta('lastSavedAt', isNumber),
      this.db.getMeta('lastAction', isLastAction),
      this.list.loadCache(),
    ])
    if (this.closed) return
    this.lastAction = lastAction ?? null
    this.setStatus({ lastSavedAt: lastSavedAt ?? null })
    this.watchDexie()

    mark('qm:cache-shown')
    this.persistence = new IndexeddbPersistence(docDbName(this.tenant, this.userId), this.doc)
    await this.persistence.whenSynced
    mark('qm:doc-loaded')
    if (this.closed) return
    if (isEmptyDoc(this.doc) && this.online.isOnline()) await this.download()
    if (this.closed) return

    // The index is built after the load: cheaper than following the load's huge transaction.
    const index = new LedgerIndex(this.doc)
    this.indexRef = index
    this.inventoryRef = new Inventory(this.doc, { userId: this.userId, readOnly: this.readOnly, index })
    mark('qm:index-built')
    this.historyRef = new ItemHistory(this.db, this.api, index)
    this.cleanups.push(index.subscribe((items, changes, tr) => this.afterChange(items, changes, tr)))
    this.list.attach(this.inventoryRef)
    const alertsTimer = setTimeout(() => {
      if (this.closed) return
      this.alertsRef = new AlertModel(index)
      this.emit()
    }, 0)
    this.cleanups.push(() => clearTimeout(alertsTimer))
    this.loadMs = this.now() - started
    this.tabSync = new TabSync(this.doc, tabChannelName(this.tenant, this.userId))
    this.connect()
    this.cleanups.push(this.online.subscribe((online) => this.onlineChanged(online)))
    this.setStatus({ phase: 'ready' })
  }

  /** Closes connections and databases; the local data stays. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.refreshTimer) clearTimeout(this.refreshTimer)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    for (const c of this.cleanups.splice(0)) c()
    this.presenceRef?.destroy()
    this.providerRef?.destroy()
    this.tabSync?.destroy()
    this.list.detach()
    this.inventoryRef?.destroy()
    await this.persistence?.destroy()
    this.doc.destroy()
    this.db.close()
    this.setStatus({ phase: 'closed', connection: 'offline' })
    this.listeners.clear()
  }

  private watchDexie(): void {
    const pending = liveQuery(() => this.db.pending.toArray()).subscribe({
      next: (rows: PendingChange[]) => this.setStatus({ pending: summarize(rows) }),
      error: (err: unknown) => console.error('[store] reading pending changes failed', err),
    })
    const rejected = liveQuery(() => this.db.rejected.orderBy('seq').reverse().limit(REJECTED_SHOWN).toArray()).subscribe({
      next: (rows: RejectedEntry[]) => this.setStatus({ rejected: rows }),
      error: (err: unknown) => console.error('[store] reading refused changes failed', err),
    })
    this.cleanups.push(() => pending.unsubscribe(), () => rejected.unsubscribe())
  }

  private async download(): Promise<void> {
    this.setStatus({ phase: 'downloading', download: { loaded: 0, total: null } })
    try {
      const update = await this.api.document((loaded, total) => this.setStatus({ download: { loaded, total } }))
      if (!this.closed) Y.applyUpdate(this.doc, update, { source: 'connection', connectionId: 'download' })
    } catch (err) {
      // The relay brings the same content; the download only shows progress and saves a round trip.
      if (!(err instanceof StoreError)) throw err
      console.warn('[store] first download failed; syncing over the relay instead', err.message)
    } finally {
      this.setStatus({ download: null })
    }
  }

  // ---- local changes -------------------------------------------------------------------------

  private afterChange(items: ReadonlySet<string>, changes: Parameters<typeof describeChange>[0], tr: Y.Transaction): void {
    this.list.changed(items)
    this.alertsRef?.changed(items, changes)
    const origin: unknown = tr.origin
    if (!tr.local || typeof origin !== 'object' || origin === null || (origin as { source?: unknown }).source !== 'local') return
    const skuOf = (item: string) => this.inventoryRef?.item(item)?.sku ?? item
    const label = describeChange(changes, skuOf)
    this.pendingTracker.record(this.doc, label, [...items], this.now()).catch((err: unknown) => {
      console.error('[store] could not record a waiting change', err)
    })
  }

  private remember(movements: readonly Movement[], label: string): void {
    const first = movements[0]
    if (!first) return
    this.lastAction = { movementId: first.id, label, item: first.item }
    this.db.setMeta('lastAction', this.lastAction).catch((err: unknown) => console.error('[store] could not keep the last action', err))
    this.emit()
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }

  receive(item: string, location: string, quantity: number, note?: string): Movement {
    const m = this.inventory.receive({ item, location, quantity, ...(note ? { note } : {}) })
    this.remember([m], `receive ${quantity}`)
    return m
  }

  pick(item: string, location: string, quantity: number, note?: string): Movement {
    const m = this.inventory.pick({ item, location, quantity, ...(note ? { note } : {}) })
    this.remember([m], `pick ${quantity}`)
    return m
  }

  adjust(item: string, location: string, delta: number, reason: string): Movement {
    const m = this.inventory.adjust({ item, location, delta, reason })
    this.remember([m], `adjust ${delta > 0 ? '+' : ''}${delta}`)
    return m
  }

  count(item: string, location: string, counted: number): Movement {
    const m = this.inventory.count({ item, location, counted })
    this.remember([m], `count ${counted}`)
    return m
  }

  transfer(item: string, from: string, to: string, quantity: number): [Movement, Movement] {
    const legs = this.inventory.transfer({ item, from, to, quantity })
    this.remember(legs, `transfer ${quantity}`)
    return legs
  }

  /** Undoes this user's last stock action on this device with compensating movements. */
  undoLast(): Movement[] {
    const last = this.lastAction
    if (!last) throw new StoreError('bad-response', 'there is nothing to undo')
    const undos = this.inventory.undo(last.movementId, 'undo')
    this.lastAction = null
    this.db.meta.delete('lastAction').catch((err: unknown) => console.error('[store] could not forget the last action', err))
    this.emit()
    return undos
  }

  /** Whether the last action can still be undone (not undone already, e.g. in another tab). */
  canUndoLast(): boolean {
    const last = this.lastAction
    return last !== null && this.ready && !this.readOnly && this.index.undoesOf(last.movementId).length === 0 &&
      this.index.movementsWithId(last.movementId).length > 0
  }

  createItem(input: NewItem): string {
    return this.inventory.createItem(input)
  }

  updateItem(id: string, patch: ItemPatch): void {
    this.inventory.updateItem(id, patch)
  }

  createLocation(name: string): string {
    return this.inventory.createLocation({ name })
  }

  async dismissRejected(): Promise<void> {
    await this.db.rejected.clear()
  }

  // ---- the connection ------------------------------------------------------------------------

  private connect(): void {
    if (this.closed) return
    if (!this.providerRef) {
      const provider = new WebsocketProvider(relayUrl(this.options.serverUrl), this.tenant, this.doc, {
        connect: false,
        disableBc: true,
        params: { token: this.session.token, ext: '1' },
        maxBackoffTime: this.options.maxBackoffMs ?? 2500,
        ...(this.options.WebSocketPolyfill ? { WebSocketPolyfill: this.options.WebSocketPolyfill } : {}),
      })
      provider.messageHandlers[MESSAGE.durable] = (_e, d: decoding.Decoder) => this.onDurable(readDurable(d))
      provider.messageHandlers[MESSAGE.rejected] = (_e, d: decoding.Decoder) => this.onRejected(readRejected(d))
      provider.on('status', () => this.updateConnection())
      provider.on('sync', () => this.updateConnection())
      provider.on('closed', (event: { code: number; reason: string }) => this.onClosed(event.code, event.reason))
      this.providerRef = provider
      this.presenceRef = new Presence(provider.awareness, this.session.user)
    }
    this.scheduleRefresh()
    if (!this.online.isOnline()) {
      this.updateConnection()
      return
    }
    if (this.session.expiresAt - this.now() < 5000) {
      // An expired token would only be refused: refresh first.
      this.refreshThenConnect()
      return
    }
    this.providerRef.connect()
    this.updateConnection()
  }

  private updateConnection(): void {
    const p = this.providerRef
    const connection: Connection =
      !this.online.isOnline() || !p || !p.shouldConnect ? 'offline' : p.wsconnected && p.synced ? 'online' : 'connecting'
    if (connection !== this.statusValue.connection) this.setStatus({ connection })
  }

  private onlineChanged(online: boolean): void {
    if (online) {
      this.connect()
    } else {
      this.providerRef?.disconnect()
      this.updateConnection()
    }
  }

  private onDurable(stateVector: Uint8Array): void {
    this.durable = Y.decodeStateVector(stateVector)
    const at = this.now()
    this.setStatus({ lastSavedAt: at })
    this.db.setMeta('lastSavedAt', at).catch((err: unknown) => console.error('[store] could not keep the last sync time', err))
    this.pendingTracker.acknowledge(this.durable).catch((err: unknown) => console.error('[store] could not clear saved changes', err))
  }

  private onRejected(rejected: readonly { code: string; message: string; path: string }[]): void {
    const at = this.now()
    this.db.rejected.bulkAdd(rejected.map((r) => ({ at, code: r.code, message: r.message, path: r.path }))).catch((err: unknown) => {
      console.error('[store] could not keep what the server refused', err)
    })
  }

  private onClosed(code: number, reason: string): void {
    this.updateConnection()
    if (this.closed) return
    switch (code) {
      case 4440: // token-expired
      case 4401: // unauthorized: maybe a stale token; a refresh tells
        this.refreshThenConnect()
        return
      case 4403:
        this.setStatus({ problem: { code: 'forbidden', message: 'The server refused this account for this warehouse. Sign in again or ask an admin.' } })
        return
      case 4413:
        this.setStatus({ problem: { code: 'document-too-large', message: 'The inventory has reached its size limit; the server refused the last change.' } })
        return
      case 4429:
        this.setStatus({ problem: { code: 'too-many-connections', message: 'Too many devices or tabs are open for this user; retrying shortly.' } })
        this.retryLater()
        return
      default:
        this.setStatus({ problem: { code: 'server-error', message: `The server closed the connection (${code} ${reason}); retrying shortly.` } })
        this.retryLater()
    }
  }

  private retryLater(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.closed) return
      this.setStatus({ problem: null })
      this.connect()
    }, this.options.retryMs ?? 15_000)
  }

  // ---- the token -----------------------------------------------------------------------------

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer)
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null
      if (this.online.isOnline()) this.refresh().catch((err: unknown) => console.error('[store] token refresh failed', err))
    }, refreshDelay(this.session, this.now()))
  }

  private refreshThenConnect(): void {
    this.refresh()
      .then((ok) => {
        if (ok && !this.closed) {
          this.providerRef?.connect()
          this.updateConnection()
        }
      })
      .catch((err: unknown) => console.error('[store] token refresh failed', err))
  }

  /**
   * Gets new tokens; resolves to whether it worked. A refused refresh asks the person to sign in
   * again (local data stays); no network leaves the old session to retry later.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      try {
        const next = await refreshSession(this.options.serverUrl, this.session, this.options.fetch)
        if (this.closed) return false
        this.session = next
        await this.options.deviceDb.sessions.put({ key: 'current', session: next })
        if (this.providerRef) this.providerRef.params = { ...this.providerRef.params, token: next.token }
        if (this.statusValue.problem?.code === 'sign-in-again') this.setStatus({ problem: null })
        this.scheduleRefresh()
        return true
      } catch (err) {
        if (!(err instanceof StoreError)) throw err
        if (err.code === 'unauthorized' || err.code === 'forbidden') {
          this.setStatus({ problem: { code: 'sign-in-again', message: 'Your sign-in has ended. Sign in again: nothing on this device is lost.' } })
        } else {
          this.retryLater()
        }
        return false
      } finally {
        this.refreshing = null
      }
    })()
    return this.refreshing
  }

  /** Signs in again (after sign-in-again) as the same user, keeping this store and its data. */
  async replaceSession(next: Session): Promise<void> {
    if (next.user.id !== this.userId || next.user.tenant !== this.tenant) {
      throw new StoreError('forbidden', 'a different user needs a store of their own')
    }
    this.session = next
    await this.options.deviceDb.sessions.put({ key: 'current', session: next })
    if (this.providerRef) this.providerRef.params = { ...this.providerRef.params, token: next.token }
    this.setStatus({ problem: null })
    this.connect()
  }

  /** Waiting changes, oldest first (for the sync panel). */
  waitingChanges(): Promise<PendingChange[]> {
    return this.pendingTracker.list()
  }
}
