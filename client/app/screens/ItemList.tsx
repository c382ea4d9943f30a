/**
 * The inventory: 10,000 items in a virtualized list (only the rows on screen are in the DOM),
 * search by SKU, name or barcode, filters by status and location, a status badge per row and a
 * mark on items with changes still waiting for the server. The rows come from the store's list
 * model (built once, patched per change), so typing filters prepared rows and reads no document.
 */
import { useVirtualizer } from '@tanstack/react-virtual'
import { useDeferredValue, useLayoutEffect, useMemo, useRef, useState } from 'react'
import type { FormEvent } from 'react'
import { InventoryError } from '../../../sync/inventory.js'
import { STOCK_STATUSES } from '../../../sync/status.js'
import type { StockStatus } from '../../../sync/status.js'
import { STATUS_LABEL } from '../format.js'
import { useListVersion, useRoute, useStatus, useStore } from '../hooks.js'
import { StatusBadge } from '../parts/StatusBadge.js'

const ROW_HEIGHT = 72

export function ItemList() {
  const store = useStore()
  const version = useListVersion()
  const status = useStatus()
  const { navigate } = useRoute()
  const [query, setQuery] = useState('')
  const deferredQuery = useDeferredValue(query)
  const [statusFilter, setStatusFilter] = useState<StockStatus | 'all'>('all')
  const [location, setLocation] = useState('all')
  const [adding, setAdding] = useState(false)
  const scrollRef = useRef<HTMLDivElement>(null)

  const rows = useMemo(
    () => store.list.filter({ query: deferredQuery, status: statusFilter, location }),
    // `version` changes whenever a row does: the model itself is one object for the session.
    [store, version, deferredQuery, statusFilter, location],
  )
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  })

  // The measure bench/pwa-first-render.ts reads: the first commit of a list with rows in it.
  useLayoutEffect(() => {
    if (rows.length === 0 || performance.getEntriesByName('qm:list-rendered').length > 0) return
    performance.mark('qm:list-rendered', { detail: { rows: store.list.size, source: store.list.source } })
    requestAnimationFrame(() => performance.mark('qm:list-painted'))
  }, [rows.length, store])

  const waiting = status.pending.items
  const empty = store.list.source !== 'none' || status.phase === 'ready'

  return (
    <section className="list-screen">
      <div className="filters">
        <input
          type="search"
          className="search"
          placeholder="Search SKU, name or barcode"
          aria-label="Search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <div className="filter-row">
          <select aria-label="Status" value={statusFilter} onChange={(e) => setStatusFilter(e.target.value as StockStatus | 'all')}>
            <option value="all">All statuses</option>
            {STOCK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
          <select aria-label="Location" value={location} onChange={(e) => setLocation(e.target.value)}>
            <option value="all">All locations</option>
            {store.list.locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
          {!store.readOnly && (
            <button type="button" className="icon-button" aria-label="New item or location" onClick={() => setAdding((a) => !a)}>
              +
            </button>
          )}
        </div>
        {adding && <NewThings onDone={() => setAdding(false)} />}
        <p className="muted small" data-testid="list-count">
          {rows.length.toLocaleString()} of {store.list.size.toLocaleString()} items
          {store.list.source === 'cache' && ' · opening…'}
        </p>
      </div>
      <div className="list-scroll" ref={scrollRef} data-testid="item-list">
        {rows.length === 0 && empty && <p className="muted centered">No items match.</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const row = rows[v.index]
            if (!row) return null
            return (
              <button
                type="button"
                key={row.id}
                className="item-row"
                data-testid="item-row"
                data-sku={row.sku}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                onClick={() => navigate(`/items/${encodeURIComponent(row.id)}`)}
              >
                <span className="row-main">
                  <span className="sku">{row.sku}</span>
                  <span className="name">{row.name}</span>
                </span>
                <span className="row-side">
                  <span className="qty" data-testid="row-on-hand">
                    {row.onHand} <span className="unit">{row.unit}</span>
                  </span>
                  <StatusBadge status={row.status} archived={row.archived} />
                  {waiting.has(row.id) && (
                    <span className="waiting-mark" title="Changes waiting to sync" data-testid="waiting-mark">
                      ⟳
                    </span>
                  )}
                </span>
              </button>
            )
          })}
        </div>
      </div>
    </section>
  )
}

/** Editors and admins: a new item or a new location, right from the list. */
function NewThings({ onDone }: { onDone: () => void }) {
  const store = useStore()
  const { navigate } = useRoute()
  const [sku, setSku] = useState('')
  const [name, setName] = useState('')
  const [barcode, setBarcode] = useState('')
  const [locationName, setLocationName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const ready = useStatus().phase === 'ready'

  const guard = (fn: () => void) => {
    setError(null)
    try {
      fn()
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      setError(err.message)
    }
  }
  const createItem = (e: FormEvent) => {
    e.preventDefault()
    guard(() => {
      const id = store.createItem({ sku: sku.trim(), name: name.trim(), ...(barcode.trim() ? { barcode: barcode.trim() } : {}) })
      onDone()
      navigate(`/items/${encodeURIComponent(id)}`)
    })
  }
  const createLocation = (e: FormEvent) => {
    e.preventDefault()
    guard(() => {
      store.createLocation(locationName.trim())
      setLocationName('')
      onDone()
    })
  }
  if (!ready) return <p className="muted">Opening the inventory…</p>
  return (
    <div className="panel">
      <form className="stack" onSubmit={createItem} aria-label="New item">
        <label>
          SKU <input required value={sku} onChange={(e) => setSku(e.target.value)} />
        </label>
        <label>
          Name <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Barcode (optional) <input value={barcode} onChange={(e) => setBarcode(e.target.value)} />
        </label>
        <button type="submit" className="primary big">
          Create item
        </button>
      </form>
      <form className="stack" onSubmit={createLocation} aria-label="New location">
        <label>
          Location name <input required value={locationName} onChange={(e) => setLocationName(e.target.value)} />
        </label>
        <button type="submit" className="big">
          Create location
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
