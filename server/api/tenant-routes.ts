/** REST for integrations: items, movements, CSV export and import. Tenant from the token. */
import { Hono } from 'hono'
import { Inventory } from '../../sync/inventory.js'
import type { Movement } from '../../sync/schema.js'
import type { Relay } from '../relay/relay.js'
import { apiError } from './errors.js'
import { exportCsv, importCsv } from './inventory-csv.js'
import { requireRole } from './session.js'
import type { ApiEnv } from './session.js'

/** Largest import body. @default 20 MiB */
const MAX_IMPORT_BYTES = 20 * 1024 * 1024
const MAX_PAGE = 500

/** Expects the session middleware in front (server/app.ts). */
export const tenantRoutes = (relay: Relay) => {
  const app = new Hono<ApiEnv>()

  /** A read-only view of the tenant's live document. */
  const view = <T>(tenant: string, fn: (inv: Inventory) => T) =>
    relay.withRoom(tenant, (room) =>
      room.read((doc, index) => {
        const inv = new Inventory(doc, { userId: 'api', readOnly: true, index })
        return fn(inv)
      }),
    )

  app.get('/:tenant/items', async (c) => {
    const items = await view(c.req.param('tenant'), (inv) =>
      inv.listItems().map((i) => ({
        id: i.id,
        sku: i.sku,
        name: i.name,
        unit: i.unit,
        barcode: i.barcode ?? null,
        onHand: i.onHand,
        byLocation: i.byLocation,
        reorderPoint: i.reorderPoint,
        reorderQty: i.reorderQty,
        status: i.status,
        archived: i.archived,
      })),
    )
    return c.json({ items })
  })

  app.get('/:tenant/movements', async (c) => {
    const item = c.req.query('item')
    const limitText = c.req.query('limit') ?? '100'
    const limit = Number(limitText)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      return apiError(c, 400, 'invalid-request', `limit must be 1 to ${MAX_PAGE}`)
    }
    const cursor = c.req.query('before') // `${at}:${id}` of the last movement of the previous page
    const [cursorAt, cursorId] = cursor ? [Number(cursor.split(':')[0]), cursor.slice(cursor.indexOf(':') + 1)] : [Infinity, '']
    if (cursor && !Number.isFinite(cursorAt)) return apiError(c, 400, 'invalid-request', 'before must be a cursor from a previous page')
    const page = await view(c.req.param('tenant'), (inv) => {
      const all: Movement[] = item ? inv.movementsOf(item) : inv.movements.toArray()
      // Newest first; ties broken by id so pages never skip or repeat.
      const sorted = all
        .filter((m) => m.at < cursorAt || (m.at === cursorAt && m.id < cursorId))
        .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      return sorted.slice(0, limit)
    })
    const last = page[page.length - 1]
    return c.json({ movements: page, next: page.length === limit && last ? `${last.at}:${last.id}` : null })
  })

  app.get('/:tenant/export.csv', async (c) => {
    const tenant = c.req.param('tenant')
    const csv = await view(tenant, exportCsv)
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${tenant}-inventory.csv"`,
    })
  })

  app.post('/:tenant/import', requireRole('admin', 'editor'), async (c) => {
    const length = Number(c.req.header('content-length') ?? 0)
    if (length > MAX_IMPORT_BYTES) return apiError(c, 413, 'too-large', `an import may be at most ${MAX_IMPORT_BYTES} bytes`)
    const text = await c.req.text()
    if (text.length > MAX_IMPORT_BYTES) return apiError(c, 413, 'too-large', `an import may be at most ${MAX_IMPORT_BYTES} bytes`)
    const session = c.get('session')
    const result = await relay.withRoom(session.tenant, (room) =>
      room.serverChange('import', (doc) => importCsv(doc, text, session.userId)),
    )
    if (!result.ok) {
      return apiError(c, 422, 'invalid-import', 'nothing was imported: fix the rows listed and send the file again', { rows: result.errors })
    }
    return c.json({ imported: result.summary })
  })

  return app
}
