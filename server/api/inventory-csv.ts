/**
 * Items and opening quantities as CSV, one row per item and location. Export and import use the
 * same columns, so an export imports back unchanged.
 */
import * as Y from 'yjs'
import { Inventory, InventoryError } from '../../sync/inventory.js'
import type { ItemPatch } from '../../sync/inventory.js'
import { parseCsv, formatCsv, unguardCsvField, CsvError } from './csv.js'

export const CSV_COLUMNS = ['sku', 'name', 'unit', 'barcode', 'reorderPoint', 'reorderQty', 'location', 'quantity'] as const
const REQUIRED = ['sku', 'name'] as const
/** Rows per import: a bigger file should be split; it would hold the tenant's queue too long. */
export const MAX_IMPORT_ROWS = 50_000

export interface RowError {
  /** 1-based line in the file, the header being line 1. */
  readonly row: number
  readonly errors: string[]
}

export interface ImportSummary {
  readonly rows: number
  readonly itemsCreated: number
  readonly itemsUpdated: number
  readonly locationsCreated: number
  readonly movements: number
}

export type ImportResult = { ok: true; summary: ImportSummary } | { ok: false; errors: RowError[] }

export const exportCsv = (inv: Inventory): string => {
  const locations = new Map<string, string>(inv.listLocations().map((l) => [l.id, l.name]))
  const rows: Array<Array<string | number | undefined>> = [[...CSV_COLUMNS]]
  // Archived items are left out: the file has no archived column, and an import would bring
  // them back as live items (or fold them into a live item that reuses the SKU).
  const live = inv.listItems().filter((item) => !item.archived)
  for (const item of live.sort((a, b) => a.sku.localeCompare(b.sku))) {
    const base = [item.sku, item.name, item.unit, item.barcode, item.reorderPoint, item.reorderQty]
    const stock = Object.entries(item.byLocation).filter(([, q]) => q !== 0)
    if (stock.length === 0) rows.push([...base, '', ''])
    for (const [loc, q] of stock) rows.push([...base, locations.get(loc) ?? loc, q])
  }
  return formatCsv(rows)
}

const parseWhole = (text: string, what: string, errors: string[]): number | undefined => {
  if (text.trim() === '') return undefined
  const n = Number(text.trim())
  if (!Number.isSafeInteger(n)) {
    errors.push(`${what} must be a whole number (got "${text.slice(0, 40)}")`)
    return undefined
  }
  return n
}

/**
 * Applies an import to `doc`: all rows, or none. The rows run against a copy first, collecting
 * every row's errors; only a clean run is merged into the document, in one transaction.
 * A row's quantity is what is at that location now: it is recorded as a count.
 */
export const importCsv = (doc: Y.Doc, text: string, userId: string): ImportResult => {
  let table: string[][]
  try {
    table = parseCsv(text)
  } catch (err) {
    return { ok: false, errors: [{ row: err instanceof CsvError ? err.line : 1, errors: [(err as Error).message] }] }
  }
  const header = (table[0] ?? []).map((h) => h.trim())
  const missing = REQUIRED.filter((c) => !header.includes(c))
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h))
  if (missing.length > 0 || unknown.length > 0) {
    const errors = [
      ...missing.map((c) => `missing column "${c}"`),
      ...unknown.map((c) => `unknown column "${c}" (columns: ${CSV_COLUMNS.join(', ')})`),
    ]
    return { ok: false, errors: [{ row: 1, errors }] }
  }
  const body = table.slice(1)
  if (body.length > MAX_IMPORT_ROWS) {
    return { ok: false, errors: [{ row: 1, errors: [`at most ${MAX_IMPORT_ROWS} rows per import (got ${body.length})`] }] }
  }

  // Work on a copy; merge it only if every row is good. The copy writes with a client id of its
  // own, which the room claims for the server (Room.serverChange). It cannot borrow the server's:
  // Yjs gives a doc a fresh client id whenever a remote update carries content under its own.
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const inv = new Inventory(copy, { userId, origin: { source: 'server', reason: 'import' } })
  const rowErrors: RowError[] = []
  const summary = { rows: 0, itemsCreated: 0, itemsUpdated: 0, locationsCreated: 0, movements: 0 }
  const locationByName = new Map(inv.listLocations().map((l) => [l.name.trim().toLowerCase(), l.id as string]))
  try {
    body.forEach((cells, i) => {
      const line = i + 2
      if (cells.every((c) => c.trim() === '')) return
      const errors: string[] = []
      const cell = (name: (typeof CSV_COLUMNS)[number]) => {
        const at = header.indexOf(name)
        return at < 0 ? '' : unguardCsvField((cells[at] ?? '').trim())
      }
      if (cells.length > header.length) errors.push(`${cells.length} fields, but the header has ${header.length}`)
      const reorderPoint = parseWhole(cell('reorderPoint'), 'reorderPoint', errors)
      const reorderQty = parseWhole(cell('reorderQty'), 'reorderQty', errors)
      const quantity = parseWhole(cell('quantity'), 'quantity', errors)
      const locationName = cell('location')
      if (quantity !== undefined && locationName === '') errors.push('a quantity needs a location')
      const fields = {
        sku: cell('sku'),
        name: cell('name'),
        ...(cell('unit') ? { unit: cell('unit') } : {}),
        ...(cell('barcode') ? { barcode: cell('barcode') } : {}),
        ...(reorderPoint !== undefined ? { reorderPoint } : {}),
        ...(reorderQty !== undefined ? { reorderQty } : {}),
      }
      if (errors.length === 0) {
        try {
          copy.transact(() => {
            const existing = inv.findByCode(fields.sku).find((it) => it.sku === fields.sku && !it.archived)
            let itemId: string
            if (existing) {
              // Only what differs from what the item shows (an export states defaults like unit "each").
              const patch = Object.fromEntries(
                Object.entries(fields).filter(([key, value]) => existing[key as keyof typeof existing] !== value),
              )
              if (Object.keys(patch).length > 0) inv.updateItem(existing.id, patch as ItemPatch)
              itemId = existing.id
              summary.itemsUpdated++
            } else {
              itemId = inv.createItem(fields)
              summary.itemsCreated++
            }
            if (locationName !== '') {
              let loc = locationByName.get(locationName.toLowerCase())
              if (!loc) {
                loc = inv.createLocation({ name: locationName })
                locationByName.set(locationName.toLowerCase(), loc)
                summary.locationsCreated++
              }
              if (quantity !== undefined && quantity !== inv.onHand(itemId, loc)) {
                // A negative on-hand (oversold) exports as such; it imports back only unchanged.
                if (quantity < 0) throw new InventoryError('invalid-input', 'quantity must not be negative')
                inv.count({ item: itemId, location: loc, counted: quantity, reason: 'import' })
                summary.movements++
              }
            }
          }, { source: 'server', reason: 'import' })
        } catch (err) {
          if (!(err instanceof InventoryError)) throw err
          errors.push(err.message)
        }
      }
      if (errors.length > 0) rowErrors.push({ row: line, errors })
      else summary.rows++
    })
    if (rowErrors.length > 0) return { ok: false, errors: rowErrors }
    const diff = Y.encodeStateAsUpdate(copy, Y.encodeStateVector(doc))
    Y.applyUpdate(doc, diff, { source: 'server', reason: 'import' })
    return { ok: true, summary }
  } finally {
    inv.destroy()
    copy.destroy()
  }
}
