/**
 * The inventory list's rows: built once from the document, then patched from the index's change
 * notices (LedgerIndex.subscribe), never rebuilt per keystroke or per remote update. The rows are
 * also kept in Dexie, so a cold start shows the list before the document has finished loading
 * (bench/RESULTS.md, pwa-first-render); once it has, the live rows replace them.
 *
 * They are kept as one JSON text, not one record per row: reading 10,000 records took about half a
 * second of a cold start on a busy machine; one text of about 1 MB is read and parsed in a few ms.
 */
import type { Inventory, ItemView } from '../../sync/inventory.js'
import type { StockStatus } from '../../sync/status.js'
import type { ListRow, UserDb } from './databases.js'

export interface ListFilter {
  /** Matches SKU, name or barcode, without regard to case. */
  readonly query: string
  readonly status: StockStatus | 'all'
  /** Items with stock at this location; 'all' for any. */
  readonly location: string
  /** Show archived items too. @default false */
  readonly archived?: boolean
}

export interface LocationChoice {
  readonly id: string
  readonly name: string
}

export const rowOf = (v: ItemView): ListRow => ({
  id: v.id,
  sku: v.sku,
  name: v.name,
  barcode: v.barcode ?? '',
  unit: v.unit,
  onHand: v.onHand,
  status: v.status,
  archived: v.archived,
  locations: Object.entries(v.byLocation).filter(([, q]) => q !== 0).map(([loc]) => loc),
})

const sameRow = (a: ListRow, b: ListRow): boolean =>
  a.sku === b.sku && a.name === b.name && a.barcode === b.barcode && a.unit === b.unit && a.onHand === b.onHand &&
  a.status === b.status && a.archived === b.archived && a.locations.join() === b.locations.join()

const sameLocations = (a: readonly LocationChoice[], b: readonly LocationChoice[]): boolean =>
  a.length === b.length && a.every((l, i) => l.id === b[i]?.id && l.name === b[i]?.name)

const bySku = (a: ListRow, b: ListRow): number => {
  const x = a.sku.toLowerCase()
  const y = b.sku.toLowerCase()
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1
}

/** What is kept in Dexie (meta `list`): every row and the location choices, as JSON text. */
interface KeptList {
  readonly rows: ListRow[]
  readonly locations: LocationChoice[]
}

const CACHE_KEY = 'list'
const isText = (v: unknown): v is string => typeof v === 'string'

/** How long row changes wait before the kept list is written again. @default 1000 ms */
const CACHE_DELAY_MS = 1000

export class ItemListModel {
  private readonly rows = new Map<string, ListRow>()
  private readonly search = new Map<string, string>()
  /** Ids in SKU order; rows are looked up at read time, so a patched row shows at once. */
  private order: string[] = []
  private dirtyOrder = false
  private inventory: Inventory | null = null
  private readonly listeners = new Set<() => void>()
  private saveTimer: ReturnType<typeof setTimeout> | null = null
  /** 'cache' until the document has loaded, then 'live'. */
  source: 'none' | 'cache' | 'live' = 'none'
  locations: LocationChoice[] = []
  /** Bumped on every change: React re-renders on it. */
  version = 0

  constructor(private readonly db: UserDb) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(): void {
    this.version++
    for (const l of this.listeners) l()
  }

  private put(row: ListRow): void {
    const old = this.rows.get(row.id)
    if (!old || old.sku !== row.sku) this.dirtyOrder = true
    this.rows.set(row.id, row)
    this.search.set(row.id, `${row.sku}\n${row.name}\n${row.barcode}`.toLowerCase())
  }

  /** Shows the rows kept from the last session. */
  async loadCache(): Promise<void> {
    const text = await this.db.getMeta(CACHE_KEY, isText)
    if (this.source === 'live' || text === undefined) return
    let kept: KeptList
    try {
      kept = JSON.parse(text) as KeptList
    } catch (err) {
      // A torn or foreign value: the live rows replace it shortly anyway.
      console.warn('[list] the kept rows could not be read', err)
      return
    }
    if (!Array.isArray(kept.rows) || kept.rows.length === 0) return
    for (const r of kept.rows) this.put(r)
    this.locations = Array.isArray(kept.locations) ? kept.locations : []
    this.source = 'cache'
    this.emit()
  }

  /** Takes the live document over: rebuilds every row once, and keeps them if anything differs. */
  attach(inventory: Inventory): void {
    this.inventory = inventory
    const live = new Map<string, ListRow>(inventory.listItems().map((v) => [v.id, rowOf(v)]))
    let differs = false
    for (const id of [...this.rows.keys()]) {
      if (live.has(id)) continue
      this.rows.delete(id)
      this.search.delete(id)
      differs = true
    }
    for (const row of live.values()) {
      const old = this.rows.get(row.id)
      if (!old || !sameRow(old, row)) differs = true
      this.put(row)
    }
    this.dirtyOrder = true
    const locations = this.readLocations()
    if (!sameLocations(locations, this.locations)) differs = true
    this.locations = locations
    this.source = 'live'
    this.emit()
    if (differs) this.scheduleSave()
  }

  detach(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.inventory = null
    this.listeners.clear()
  }

  private readLocations(): LocationChoice[] {
    return (this.inventory?.listLocations() ?? [])
      .filter((l) => !l.archived)
      .map((l) => ({ id: l.id, name: l.name }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  /** Items the index reports as changed: their rows only. */
  changed(items: ReadonlySet<string>): void {
    const inv = this.inventory
    if (!inv) return
    for (const id of items) {
      const view = inv.item(id)
      if (view) this.put(rowOf(view))
    }
    const locations = this.readLocations()
    if (!sameLocations(locations, this.locations)) this.locations = locations
    this.scheduleSave()
    this.emit()
  }

  private scheduleSave(): void {
    if (this.saveTimer) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null
      const kept: KeptList = { rows: [...this.rows.values()], locations: this.locations }
      this.db.setMeta(CACHE_KEY, JSON.stringify(kept)).catch((err: unknown) => console.error('[list] could not keep the rows', err))
    }, CACHE_DELAY_MS)
  }

  get size(): number {
    return this.rows.size
  }

  row(id: string): ListRow | undefined {
    return this.rows.get(id)
  }

  private ordered(): readonly string[] {
    if (this.dirtyOrder) {
      this.order = [...this.rows.values()].sort(bySku).map((r) => r.id)
      this.dirtyOrder = false
    }
    return this.order
  }

  /** Every row sorted by SKU (sorted again only when a SKU changed or a row came or went). */
  all(): ListRow[] {
    return this.ordered().flatMap((id) => this.rows.get(id) ?? [])
  }

  /** One pass over the prepared rows: no document reads. */
  filter(f: ListFilter): ListRow[] {
    const q = f.query.trim().toLowerCase()
    const out: ListRow[] = []
    for (const id of this.ordered()) {
      const row = this.rows.get(id)
      if (!row) continue
      if (row.archived && !f.archived) continue
      if (f.status !== 'all' && row.status !== f.status) continue
      if (f.location !== 'all' && !row.locations.includes(f.location)) continue
      if (q !== '' && !(this.search.get(row.id) ?? '').includes(q)) continue
      out.push(row)
    }
    return out
  }
}
