/**
 * The REST API through real parts: a server on port 0, `fetch`, and stock y-websocket providers
 * making the changes that the API then reports.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SERVER_USER_ID } from '../server/relay/types.js'
import { Inventory } from '../sync/inventory.js'
import type { Movement } from '../sync/schema.js'
import { PASSWORD, allSaved, eventually, startTestServer, synced } from './support/server.js'
import type { TestClient, TestServer } from './support/server.js'

let t: TestServer
beforeEach(async () => {
  t = await startTestServer()
})
afterEach(async () => {
  await t.stop()
})

interface ApiError {
  readonly error: { readonly code: string; readonly message: string }
}

interface ItemJson {
  readonly id: string
  readonly sku: string
  readonly name: string
  readonly unit: string
  readonly barcode: string | null
  readonly onHand: number
  readonly byLocation: Record<string, number>
  readonly reorderPoint: number
  readonly reorderQty: number
  readonly status: string
  readonly archived: boolean
}

interface MovementsPage {
  readonly movements: Movement[]
  readonly next: string | null
}

interface CallOptions {
  readonly method?: string
  readonly token?: string
  readonly json?: unknown
  readonly body?: string
  readonly headers?: Record<string, string>
}

const call = (path: string, o: CallOptions = {}): Promise<Response> => {
  const headers: Record<string, string> = { ...o.headers }
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
  let body: string | undefined = o.body
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(o.json)
  }
  return fetch(`${t.server.url}${path}`, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) })
}

/** Expects a JSON error answer with this status and returns its code. */
const expectError = async (res: Response, status: number): Promise<string> => {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as ApiError
  expect(body.error).toEqual({ code: expect.any(String), message: expect.any(String) })
  expect(body.error.message.length).toBeGreaterThan(0)
  return body.error.code
}

const getItems = async (token: string): Promise<ItemJson[]> => {
  const res = await call('/api/tenants/acme/items', { token })
  expect(res.status).toBe(200)
  const { items } = (await res.json()) as { items: ItemJson[] }
  return items.sort((a, b) => a.sku.localeCompare(b.sku))
}

const getMovements = async (token: string, query = ''): Promise<MovementsPage> => {
  const res = await call(`/api/tenants/acme/movements${query}`, { token })
  expect(res.status).toBe(200)
  return (await res.json()) as MovementsPage
}

const importCsv = (token: string, csv: string): Promise<Response> =>
  call('/api/tenants/acme/import', { token, body: csv, headers: { 'content-type': 'text/csv' } })

const lastSeq = async (): Promise<number> => (await t.storage.loadDocument('acme')).lastSeq

/** A provider of the admin with a shelf, a bin and two items with stock, all stored. */
const seedInventory = async (): Promise<{ admin: TestClient; shelf: string; bin: string; bolts: string; nuts: string }> => {
  const admin = await t.client('admin')
  await synced(admin)
  const shelf = admin.inv.createLocation({ name: 'Shelf' })
  const bin = admin.inv.createLocation({ name: 'Bin 7' })
  const bolts = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt', unit: 'box', barcode: '4006381333931', reorderPoint: 3, reorderQty: 20 })
  const nuts = admin.inv.createItem({ sku: 'NUT', name: 'Nut', reorderPoint: 5 })
  admin.inv.receive({ item: bolts, location: shelf, quantity: 10 })
  admin.inv.receive({ item: bolts, location: bin, quantity: 4 })
  admin.inv.pick({ item: bolts, location: shelf, quantity: 2 })
  admin.inv.receive({ item: nuts, location: shelf, quantity: 5 })
  await eventually(() => expect(allSaved(admin)).toBe(true))
  return { admin, shelf, bin, bolts, nuts }
}

describe('auth', () => {
  it('[REST-1] a login answers { token, refreshToken, expiresAt, user: { id, name, role } } and the token works', async () => {
    const res = await call('/api/auth/login', { json: { tenant: 'acme', username: 'ed', password: PASSWORD } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresAt: expect.any(Number),
      user: { id: t.users['ed']?.id, name: 'ED', role: 'editor' },
    })
    expect(body.expiresAt as number).toBeGreaterThan(Date.now())
    expect(JSON.stringify(body)).not.toMatch(/passwordHash|scrypt/)
    expect((await call('/api/tenants/acme/items', { token: body.token as string })).status).toBe(200)
  })

  it('[REST-2] a wrong password, an unknown user and an unknown tenant get one and the same 401', async () => {
    const attempts = [
      { tenant: 'acme', username: 'ed', password: 'wrong password' },
      { tenant: 'acme', username: 'nobody', password: PASSWORD },
      { tenant: 'no-such-tenant', username: 'ed', password: PASSWORD },
    ]
    const codes: string[] = []
    for (const json of attempts) codes.push(await expectError(await call('/api/auth/login', { json }), 401))
    expect(new Set(codes)).toEqual(new Set(['bad-credentials']))
  })

  it('[REST-3] a malformed login body is a 400', async () => {
    const bodies: CallOptions[] = [
      { body: 'not json', headers: { 'content-type': 'application/json' } },
      { json: ['acme', 'ed', PASSWORD] },
      { json: { tenant: 'acme', username: 'ed' } },
      { json: { tenant: 'acme', username: 'ed', password: 123 } },
      { method: 'POST' },
    ]
    for (const o of bodies) expect(await expectError(await call('/api/auth/login', o), 400)).toBe('invalid-request')
  })

  it('[REST-4] a refresh token buys new working tokens; an access token is no refresh token', async () => {
    const login = (await (await call('/api/auth/login', { json: { tenant: 'acme', username: 'vic', password: PASSWORD } })).json()) as {
      token: string
      refreshToken: string
    }
    const res = await call('/api/auth/refresh', { json: { refreshToken: login.refreshToken } })
    expect(res.status).toBe(200)
    const fresh = (await res.json()) as { token: string; refreshToken: string; user: { id: string; role: string } }
    expect(fresh).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String), user: { id: t.users['vic']?.id, role: 'viewer' } })
    expect((await call('/api/tenants/acme/items', { token: fresh.token })).status).toBe(200)

    expect(await expectError(await call('/api/auth/refresh', { json: { refreshToken: login.token } }), 401)).toBe('wrong-type')
    expect(await expectError(await call('/api/auth/refresh', { json: { refreshToken: 'garbage' } }), 401)).toBe('invalid')
    expect(await expectError(await call('/api/auth/refresh', { json: {} }), 400)).toBe('invalid-request')
  })

  it('[REST-5] tenant routes need a bearer access token of that tenant; a viewer may read', async () => {
    await seedInventory()
    const paths = ['/api/tenants/acme/items', '/api/tenants/acme/movements', '/api/tenants/acme/export.csv']
    const refreshToken = (await (await call('/api/auth/login', { json: { tenant: 'acme', username: 'ed', password: PASSWORD } })).json()) as {
      refreshToken: string
    }
    for (const path of paths) {
      expect(await expectError(await call(path), 401), path).toBe('unauthorized')
      expect(await expectError(await call(path, { token: 'not-a-jwt' }), 401), path).toBe('unauthorized')
      expect(await expectError(await call(path, { token: refreshToken.refreshToken }), 401), path).toBe('unauthorized')
      expect(await expectError(await call(path, { token: await t.token('gus') }), 403), path).toBe('forbidden')
      expect((await call(path, { token: await t.token('vic') })).status, path).toBe(200)
    }
    // The tenant's data never shows through another tenant's route.
    const gus = await t.token('gus')
    const res = await call('/api/tenants/globex/items', { token: gus })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { items: unknown[] }).items).toEqual([])
  })
})

describe('items and movements', () => {
  it('[REST-6] GET items shows each item with on-hand per location, reorder point and status from the ledger', async () => {
    const { admin, shelf, bin, bolts, nuts } = await seedInventory()
    admin.inv.archiveItem(nuts)
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const items = await getItems(await t.token('vic'))
    expect(items).toEqual([
      {
        id: bolts,
        sku: 'BOLT',
        name: 'Bolt',
        unit: 'box',
        barcode: '4006381333931',
        onHand: 12,
        byLocation: { [shelf]: 8, [bin]: 4 },
        reorderPoint: 3,
        reorderQty: 20,
        status: 'ok',
        archived: false,
      },
      {
        id: nuts,
        sku: 'NUT',
        name: 'Nut',
        unit: 'each',
        barcode: null,
        onHand: 5,
        byLocation: { [shelf]: 5 },
        reorderPoint: 5,
        reorderQty: 0,
        status: 'low',
        archived: true,
      },
    ])
    // A change from another provider shows at once.
    const ed = await t.client('ed')
    await synced(ed)
    await eventually(() => expect(ed.inv.onHand(bolts)).toBe(12))
    ed.inv.pick({ item: bolts, location: shelf, quantity: 8 })
    await eventually(() => expect(allSaved(ed)).toBe(true))
    const after = (await getItems(await t.token('vic'))).find((i) => i.id === bolts)
    expect(after).toMatchObject({ onHand: 4, byLocation: { [shelf]: 0, [bin]: 4 }, status: 'ok' })
  })

  it('[REST-7] GET movements is newest first, pages with limit and the before cursor without skipping or repeating, and filters by item', async () => {
    const { admin, shelf, bolts, nuts } = await seedInventory()
    // Many movements with one timestamp: the cursor must break ties.
    const later = new Inventory(admin.doc, { userId: t.users['admin']?.id ?? '', now: () => Date.now() + 60_000 })
    const frozen = Date.now() + 120_000
    const tied = new Inventory(admin.doc, { userId: t.users['admin']?.id ?? '', now: () => frozen })
    for (let i = 0; i < 12; i++) tied.receive({ item: i % 3 === 0 ? nuts : bolts, location: shelf, quantity: 1 + i })
    later.pick({ item: bolts, location: shelf, quantity: 1 })
    later.destroy()
    tied.destroy()
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const token = await t.token('vic')

    const all = admin.inv.movements.toArray()
    expect(all.length).toBe(17)
    const { movements: full, next: none } = await getMovements(token, '?limit=500')
    expect(none).toBeNull()
    expect(full.map((m) => m.id).sort()).toEqual(all.map((m) => m.id).sort())
    for (let i = 1; i < full.length; i++) expect(full[i - 1]!.at).toBeGreaterThanOrEqual(full[i]!.at)
    expect(full[0]?.at).toBe(frozen)
    expect(full.slice(0, 12).every((m) => m.at === frozen)).toBe(true)
    expect(full[0]).toMatchObject({ item: expect.any(String), location: shelf, delta: expect.any(Number), kind: 'receive', by: t.users['admin']?.id })

    // Default page size is 100: all 17 fit.
    expect((await getMovements(token)).movements.map((m) => m.id)).toEqual(full.map((m) => m.id))

    for (const limit of [1, 4, 5, 12]) {
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const query: string = `?limit=${limit}${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`
        const page = await getMovements(token, query)
        expect(page.movements.length).toBeLessThanOrEqual(limit)
        seen.push(...page.movements.map((m) => m.id))
        cursor = page.next
        if (++pages > 50) throw new Error('paging does not end')
      } while (cursor !== null)
      expect(seen, `limit ${limit}`).toEqual(full.map((m) => m.id))
    }

    const ofNuts = await getMovements(token, `?item=${nuts}`)
    expect(ofNuts.movements.length).toBe(5)
    expect(ofNuts.movements.every((m) => m.item === nuts)).toBe(true)
    expect(ofNuts.movements.map((m) => m.id)).toEqual(full.filter((m) => m.item === nuts).map((m) => m.id))
    const firstTwo = await getMovements(token, `?item=${nuts}&limit=2`)
    const rest = await getMovements(token, `?item=${nuts}&before=${encodeURIComponent(firstTwo.next ?? '')}`)
    expect([...firstTwo.movements, ...rest.movements].map((m) => m.id)).toEqual(ofNuts.movements.map((m) => m.id))
    expect((await getMovements(token, '?item=it_nosuchitem')).movements).toEqual([])
  })

  it('[REST-8] a bad limit or cursor is a 400', async () => {
    const token = await t.token('vic')
    for (const query of ['?limit=0', '?limit=-1', '?limit=501', '?limit=abc', '?limit=2.5', '?limit=', '?before=abc', '?before=x:mv_1']) {
      expect(await expectError(await call(`/api/tenants/acme/movements${query}`, { token }), 400), query).toBe('invalid-request')
    }
  })
})

describe('CSV export and import', () => {
  it('[REST-9] GET export.csv is CSV with a header row and one row per item and location', async () => {
    const { admin } = await seedInventory()
    admin.inv.createItem({ sku: 'WASHER', name: 'Washer, "flat"' }) // no stock: one row, no location
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const res = await call('/api/tenants/acme/export.csv', { token: await t.token('vic') })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="acme-inventory.csv"')
    const text = await res.text()
    expect(text.split('\r\n')).toEqual([
      'sku,name,unit,barcode,reorderPoint,reorderQty,location,quantity',
      'BOLT,Bolt,box,4006381333931,3,20,Shelf,8',
      'BOLT,Bolt,box,4006381333931,3,20,Bin 7,4',
      'NUT,Nut,each,,5,0,Shelf,5',
      'WASHER,"Washer, ""flat""",each,,0,0,,',
      '',
    ])
  })

  it('[REST-10] an export imported back changes nothing, whatever the data looks like', async () => {
    const { admin, shelf, nuts } = await seedInventory()
    const cold = admin.inv.createLocation({ name: '-20 freezer' })
    const formula = admin.inv.createItem({ sku: '=SKU1', name: '@risk', unit: 'each', reorderPoint: 0 })
    admin.inv.receive({ item: formula, location: cold, quantity: 3 })
    admin.inv.pick({ item: nuts, location: shelf, quantity: 7 }) // oversold: -2 on the shelf
    const old = admin.inv.createItem({ sku: 'OLD', name: 'Old bolt' })
    admin.inv.receive({ item: old, location: shelf, quantity: 1 })
    admin.inv.archiveItem(old)
    admin.inv.createItem({ sku: 'OLD', name: 'New bolt' })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    expect(admin.inv.onHand(nuts)).toBe(-2)

    const token = await t.token('ed')
    const csv = await (await call('/api/tenants/acme/export.csv', { token })).text()
    const itemsBefore = await getItems(token)
    const seqBefore = await lastSeq()
    const res = await importCsv(token, csv)
    expect(res.status, await res.clone().text()).toBe(200)
    const { imported } = (await res.json()) as { imported: Record<string, number> }
    expect(imported).toMatchObject({ itemsCreated: 0, locationsCreated: 0, movements: 0 })
    expect(await getItems(token)).toEqual(itemsBefore)
    expect(await lastSeq()).toBe(seqBefore) // nothing at all was written
    expect(await (await call('/api/tenants/acme/export.csv', { token })).text()).toBe(csv)
  })

  it('[REST-11] an import creates items and locations and records each quantity as a count', async () => {
    const { admin, shelf, bolts } = await seedInventory()
    const csv = [
      'sku,name,unit,barcode,reorderPoint,reorderQty,location,quantity',
      'BOLT,Bolt M8,box,4006381333931,3,20,Shelf,5', // 8 on the shelf: counted 5
      'SCREW,Screw,,,10,50,Dock,25', // new item, new location
      '"WASHER","Washer, flat",,,,,dock,7', // locations match by name, whatever the case
      ',,,,,,,', // blank rows are skipped
      'PIN,Pin,,,,,,',
      '',
    ].join('\r\n')
    const res = await importCsv(await t.token('ed'), csv)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toEqual({
      imported: { rows: 4, itemsCreated: 3, itemsUpdated: 1, locationsCreated: 1, movements: 3 },
    })
    const items = await getItems(await t.token('vic'))
    const bySku = new Map(items.map((i) => [i.sku, i]))
    expect(bySku.get('BOLT')).toMatchObject({ id: bolts, name: 'Bolt M8', onHand: 9, byLocation: { [shelf]: 5 } })
    const dock = Object.keys(bySku.get('SCREW')?.byLocation ?? {})[0]
    expect(dock).toBeDefined()
    expect(bySku.get('SCREW')).toMatchObject({ reorderPoint: 10, reorderQty: 50, onHand: 25, status: 'ok' })
    expect(bySku.get('WASHER')).toMatchObject({ name: 'Washer, flat', onHand: 7, byLocation: { [dock!]: 7 } })
    expect(bySku.get('PIN')).toMatchObject({ onHand: 0, byLocation: {}, status: 'out' })

    const counts = (await getMovements(await t.token('vic'))).movements.filter((m) => m.kind === 'count')
    expect(counts.length).toBe(3)
    const boltCount = counts.find((m) => m.item === bolts)
    expect(boltCount).toMatchObject({ location: shelf, counted: 5, expected: 8, delta: -3, reason: 'import', by: t.users['ed']?.id })
    // The providers converge on the same.
    await eventually(() => expect(admin.inv.onHand(bolts)).toBe(9))
  })

  it('[REST-12] an editor or admin may import; a viewer gets 403 and nothing changes', async () => {
    const csv = 'sku,name\r\nA,Alpha\r\n'
    expect(await expectError(await importCsv(await t.token('vic'), csv), 403)).toBe('forbidden')
    expect(await getItems(await t.token('vic'))).toEqual([])
    expect((await importCsv(await t.token('ed'), csv)).status).toBe(200)
    expect((await importCsv(await t.token('admin'), 'sku,name\r\nB,Beta\r\n')).status).toBe(200)
    expect((await getItems(await t.token('vic'))).map((i) => i.sku)).toEqual(['A', 'B'])
  })

  it('[REST-13] a file with a bad row is refused whole with 422 and a report per row; nothing is applied', async () => {
    await seedInventory()
    const token = await t.token('ed')
    const itemsBefore = await getItems(token)
    const seqBefore = await lastSeq()
    const csv = [
      'sku,name,unit,barcode,reorderPoint,reorderQty,location,quantity',
      'NEW1,Fine row,,,,,New place,4', // would be fine on its own
      'BOLT,Bolt,,,lots,,Shelf,1', // line 3: not a number
      'NEW2,Other,,,,,,5', // line 4: a quantity without a location
      'NEW3,Neg,,,,,Shelf,-1', // line 5: negative count
      ',No sku,,,,,,', // line 6: sku missing
      'NEW4,Too,many,,,,,,,', // line 7: more fields than the header
    ].join('\n')
    const res = await importCsv(token, csv)
    expect(await expectError(res.clone(), 422)).toBe('invalid-import')
    const { rows } = (await res.json()) as { rows: Array<{ row: number; errors: string[] }> }
    expect(rows.map((r) => r.row)).toEqual([3, 4, 5, 6, 7])
    for (const r of rows) expect(r.errors.length).toBeGreaterThan(0)
    expect(rows[0]?.errors.join()).toMatch(/reorderPoint/)
    expect(rows[1]?.errors.join()).toMatch(/location/)
    expect(rows[2]?.errors.join()).toMatch(/negative/)
    expect(await getItems(token)).toEqual(itemsBefore)
    expect(await lastSeq()).toBe(seqBefore)

    // A broken header and an unclosed quote are reported on their lines too.
    const header = (await (await importCsv(token, 'sku,nom\r\nA,B\r\n')).json()) as { rows: Array<{ row: number; errors: string[] }> }
    expect(header.rows).toEqual([{ row: 1, errors: [expect.stringMatching(/missing column "name"/), expect.stringMatching(/unknown column "nom"/)] }])
    const unclosed = await importCsv(token, 'sku,name\r\nA,"B\r\nC,D\r\n')
    expect(await expectError(unclosed.clone(), 422)).toBe('invalid-import')
    expect(((await unclosed.json()) as { rows: Array<{ row: number }> }).rows).toEqual([{ row: 2, errors: [expect.stringMatching(/not closed/)] }])
    expect(await lastSeq()).toBe(seqBefore)
  })

  it('[REST-14] a connected provider sees an import as soon as it is answered', async () => {
    const ed = await t.client('ed')
    const vic = await t.client('vic')
    await Promise.all([synced(ed), synced(vic)])
    const res = await importCsv(await t.token('admin'), 'sku,name,location,quantity\r\nLAMP,Lamp,Hall,3\r\n')
    expect(res.status).toBe(200)
    for (const c of [ed, vic]) {
      await eventually(() => {
        const lamp = c.inv.listItems().find((i) => i.sku === 'LAMP')
        expect(lamp).toMatchObject({ name: 'Lamp', onHand: 3 })
        expect(c.inv.listLocations().map((l) => l.name)).toEqual(['Hall'])
      })
    }
    // The import is stored, and its sender never had to reconnect for it.
    const stored = await t.storage.loadDocument('acme')
    expect(stored.lastSeq).toBeGreaterThan(0)
    expect(ed.closes).toEqual([])
  })

  it('[REST-18] whatever an import writes is under Yjs client ids the server owns; the server keeps its own id', async () => {
    const ed = await t.client('ed')
    await synced(ed)
    const serverId = (await t.server.relay.room('acme')).doc.clientID
    expect((await importCsv(await t.token('admin'), 'sku,name,location,quantity\r\nLAMP,Lamp,Hall,3\r\n')).status).toBe(200)
    expect((await importCsv(await t.token('ed'), 'sku,name,location,quantity\r\nLAMP,Lamp,Hall,4\r\n')).status).toBe(200)
    await eventually(() => expect(ed.inv.onHand(ed.inv.findByCode('LAMP')[0]?.id ?? '')).toBe(4))
    expect((await t.server.relay.room('acme')).doc.clientID).toBe(serverId)
    const writers = [...Y.decodeStateVector(Y.encodeStateVector(ed.doc)).keys()]
    expect(writers).toContain(serverId)
    const owners = await t.storage.clientIdOwners('acme', writers)
    for (const id of writers) expect(owners.get(id), `client id ${id}`).toBe(SERVER_USER_ID)
  })
})

describe('operations', () => {
  it('[REST-15] GET /api/health answers with the storage kind and live counts', async () => {
    const res = await call('/api/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', storage: 'memory', connections: 0, documents: 0 })
    const ed = await t.client('ed')
    await synced(ed)
    expect(await (await call('/api/health')).json()).toEqual({ status: 'ok', storage: 'memory', connections: 1, documents: 1 })
  })

  it('[REST-16] GET /metrics is Prometheus text whose qm_ counters move with updates', async () => {
    const scrape = async (): Promise<Map<string, number>> => {
      const res = await call('/metrics')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const values = new Map<string, number>()
      for (const line of (await res.text()).trimEnd().split('\n')) {
        if (line.startsWith('#')) {
          expect(line).toMatch(/^# (HELP|TYPE) qm_[a-z_]+ \S/)
          continue
        }
        const m = /^(qm_[a-z_]+(?:\{[^}]*\})?) (-?[0-9.e+-]+)$/.exec(line)
        expect(m, line).not.toBeNull()
        values.set(m![1]!, Number(m![2]))
      }
      return values
    }
    const before = await scrape()
    expect(before.get('qm_updates_accepted_total')).toBe(0)
    expect(before.get('qm_connections')).toBe(0)
    const { admin, shelf, bolts } = await seedInventory()
    admin.inv.receive({ item: bolts, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const after = await scrape()
    expect(after.get('qm_updates_accepted_total')).toBeGreaterThan(0)
    expect(after.get('qm_connections_opened_total')).toBe(1)
    expect(after.get('qm_connections')).toBe(1)
    expect(after.get('qm_documents_loaded')).toBe(1)
    expect(after.get('qm_bytes_received_total')).toBeGreaterThan(before.get('qm_bytes_received_total') ?? 0)
    expect(after.get('qm_store_latency_seconds_count')).toBeGreaterThan(0)
  })

  it('[REST-17] an unknown route is a JSON 404', async () => {
    expect(await expectError(await call('/api/nothing-here'), 404)).toBe('not-found')
    expect(await expectError(await call('/api/auth/login'), 404)).toBe('not-found') // GET: only POST exists
    expect(await expectError(await call('/api/tenants/acme/nothing', { token: await t.token('vic') }), 404)).toBe('not-found')
  })
})
