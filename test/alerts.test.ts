/**
 * Alerts through real parts: a server on port 0, stock y-websocket providers that go offline and
 * come back, REST, and the Server-Sent Events stream read with fetch.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { predictAlerts, readAlertMirror } from '../sync/alerts.js'
import type { AlertRecord } from '../server/storage/alert-types.js'
import { issueTokens } from '../server/auth/tokens.js'
import { SECRET, allSaved, eventually, startTestServer, synced } from './support/server.js'
import type { TestClient, TestServer } from './support/server.js'

let t: TestServer
beforeEach(async () => {
  t = await startTestServer()
})
afterEach(async () => {
  await t.stop()
})

/** Every alert of the tenant, open and resolved, once the duty has judged every stored change. */
const history = async (tenant = 'acme'): Promise<AlertRecord[]> => {
  await t.server.alerts.settled()
  return t.server.alerts.list(tenant, { status: 'all', limit: 1000 })
}
const openKeys = async () => (await t.server.alerts.list('acme', { status: 'open', limit: 1000 })).map((a) => a.key).sort()
const countByKind = (alerts: readonly AlertRecord[]) => {
  const out: Record<string, number> = {}
  for (const a of alerts) out[a.kind] = (out[a.kind] ?? 0) + 1
  return out
}

const stocked = async (quantity: number, reorderPoint: number, sku = 'BOLT') => {
  const admin = await t.client('admin')
  await synced(admin)
  const shelf = admin.inv.createLocation({ name: 'Shelf' })
  const item = admin.inv.createItem({ sku, name: `${sku} item`, reorderPoint })
  admin.inv.receive({ item, location: shelf, quantity })
  await eventually(() => expect(allSaved(admin)).toBe(true))
  return { admin, shelf, item }
}

/** Devices that have the stock, ready to go offline. */
const devices = async (item: string, quantity: number, ...usernames: string[]): Promise<TestClient[]> => {
  const out = await Promise.all(usernames.map((u) => t.client(u)))
  await Promise.all(out.map(synced))
  await eventually(() => out.forEach((c) => expect(c.inv.onHand(item)).toBe(quantity)))
  return out
}

describe('alerts from merged state', () => {
  it('[ALERT-4] two offline pickers crossing the reorder point open exactly one low_stock; both taking the last unit open exactly one negative_stock; a receive resolves them', async () => {
    const { admin, shelf, item } = await stocked(6, 5)
    const [ed, edna] = await devices(item, 6, 'ed', 'edna')
    if (!ed || !edna) throw new Error('two devices')
    expect(await history()).toEqual([])

    // Each takes one unit offline: each device alone sees 5, at the reorder point.
    ed.provider.disconnect()
    edna.provider.disconnect()
    ed.inv.pick({ item, location: shelf, quantity: 1 })
    edna.inv.pick({ item, location: shelf, quantity: 1 })
    // [ALERT-3] offline, the device predicts the alert the server has not confirmed yet.
    expect(predictAlerts(ed.inv.index)).toEqual([expect.objectContaining({ state: 'unconfirmed', key: `low_stock:${item}` })])
    ed.provider.connect()
    edna.provider.connect()
    await eventually(() => expect(admin.inv.onHand(item)).toBe(4))
    await eventually(async () => expect(await openKeys()).toEqual([`low_stock:${item}`]))
    const low = (await history()).filter((a) => a.kind === 'low_stock')
    expect(low).toHaveLength(1)
    expect(low[0]).toMatchObject({ severity: 'warning', item, sku: 'BOLT', status: 'open', detail: { onHand: 4, reorderPoint: 5 } })
    await eventually(() => expect(predictAlerts(ed.inv.index)).toEqual([expect.objectContaining({ state: 'confirmed', alert: expect.objectContaining({ id: low[0]?.id }) })]))

    // Down to one unit (still low: the same alert), then both take the last unit offline.
    admin.inv.pick({ item, location: shelf, quantity: 3 })
    await eventually(() => [ed, edna].forEach((c) => expect(c.inv.onHand(item)).toBe(1)))
    ed.provider.disconnect()
    edna.provider.disconnect()
    ed.inv.pick({ item, location: shelf, quantity: 1 })
    edna.inv.pick({ item, location: shelf, quantity: 1 })
    ed.provider.connect()
    edna.provider.connect()
    await eventually(() => expect(admin.inv.onHand(item)).toBe(-1))
    await eventually(async () => expect(await openKeys()).toEqual([`negative_stock:${item}`]))
    let all = await history()
    expect(all.filter((a) => a.kind === 'negative_stock')).toEqual([
      expect.objectContaining({ severity: 'critical', status: 'open', detail: expect.objectContaining({ onHand: -1 }) }),
    ])
    expect(all.filter((a) => a.kind === 'low_stock')).toEqual([expect.objectContaining({ id: low[0]?.id, status: 'resolved' })])

    // A receive brings it back: everything resolves, in the store and in every device's mirror.
    admin.inv.receive({ item, location: shelf, quantity: 10 })
    await eventually(async () => expect(await openKeys()).toEqual([]))
    all = await history()
    expect(all.every((a) => a.status === 'resolved')).toBe(true)
    const kinds = countByKind(all)
    expect(kinds.low_stock).toBe(1)
    expect(kinds.negative_stock).toBe(1)
    expect(kinds.out_of_stock ?? 0).toBeLessThanOrEqual(1) // the server may have seen one device's pick alone
    await eventually(() => [admin, ed, edna].forEach((c) => expect(readAlertMirror(c.doc).size).toBe(0)))
  })

  it('[ALERT-5] 500 rapid movements on one item open at most one alert per kind', async () => {
    const { admin, shelf, item } = await stocked(250, 100)
    for (let i = 0; i < 500; i++) admin.inv.pick({ item, location: shelf, quantity: 1 })
    await eventually(() => expect(allSaved(admin)).toBe(true), 30_000)
    const all = await history()
    expect(Object.values(countByKind(all)).every((n) => n === 1)).toBe(true)
    expect(all.filter((a) => a.status === 'open').map((a) => a.key)).toEqual([`negative_stock:${item}`])
  })

  it('[ALERT-5] a device back from offline with 501 movements, flapping across the reorder point, opens one alert for where it ended', async () => {
    const { admin, shelf, item } = await stocked(12, 10)
    const [ed] = await devices(item, 12, 'ed')
    if (!ed) throw new Error('a device')
    ed.provider.disconnect()
    for (let i = 0; i < 250; i++) {
      ed.inv.pick({ item, location: shelf, quantity: 3 }) // 9: low
      ed.inv.receive({ item, location: shelf, quantity: 3 }) // 12: ok
    }
    ed.inv.pick({ item, location: shelf, quantity: 3 })
    ed.provider.connect()
    await eventually(() => expect(admin.inv.onHand(item)).toBe(9), 30_000)
    const all = await history()
    expect(all.map((a) => [a.kind, a.status])).toEqual([['low_stock', 'open']])
  })

  it('[ALERT-6] open alerts are mirrored in the document for offline devices, with the documented shape, and leave it when resolved', async () => {
    const { admin, shelf, item } = await stocked(1, 0)
    admin.inv.pick({ item, location: shelf, quantity: 1 })
    await eventually(async () => expect(await openKeys()).toEqual([`out_of_stock:${item}`]))
    const [alert] = await t.server.alerts.list('acme', { status: 'open' })
    // A device that syncs once and goes offline still shows the last known alerts.
    const [vic] = await devices(item, 0, 'vic')
    if (!vic || !alert) throw new Error('a device and an alert')
    await eventually(() => expect(readAlertMirror(vic.doc).size).toBe(1))
    vic.provider.disconnect()
    expect(vic.doc.getMap('alerts').toJSON()).toEqual({
      [`out_of_stock:${item}`]: {
        id: alert.id, kind: 'out_of_stock', severity: 'high', item, sku: 'BOLT', openedAt: alert.openedAt, acknowledged: false,
        detail: { name: 'BOLT item', onHand: 0, reorderPoint: 0 },
      },
    })
    admin.inv.receive({ item, location: shelf, quantity: 5 })
    await eventually(() => expect(readAlertMirror(admin.doc).size).toBe(0))
    expect(readAlertMirror(vic.doc).size).toBe(1) // offline: the last known state until it syncs
    vic.provider.connect()
    await eventually(() => expect(readAlertMirror(vic.doc).size).toBe(0))
  })

  it('[ALERT-10] conflicts only a merge reveals: one SKU on two items, and stock moved on an item archived elsewhere', async () => {
    const { admin, shelf, item } = await stocked(20, 0)
    const [ed, edna] = await devices(item, 20, 'ed', 'edna')
    if (!ed || !edna) throw new Error('two devices')
    ed.provider.disconnect()
    edna.provider.disconnect()
    const washerA = ed.inv.createItem({ sku: 'WASHER', name: 'Washer' })
    const washerB = edna.inv.createItem({ sku: 'WASHER', name: 'Washer too' })
    ed.inv.archiveItem(item) // archived on one device…
    edna.inv.pick({ item, location: shelf, quantity: 5 }) // …while the other still moves its stock
    ed.provider.connect()
    edna.provider.connect()
    await eventually(async () => expect(await openKeys()).toEqual([`archived_with_stock:${item}`, 'duplicate_sku:WASHER']))
    const open = await t.server.alerts.list('acme', { status: 'open' })
    expect(open.find((a) => a.kind === 'duplicate_sku')).toMatchObject({ severity: 'warning', sku: 'WASHER', detail: { items: [washerA, washerB].sort() } })
    expect(open.find((a) => a.kind === 'archived_with_stock')).toMatchObject({ severity: 'info', detail: { onHand: 15 } })

    admin.inv.archiveItem(washerB)
    admin.inv.adjust({ item, location: shelf, delta: -15, reason: 'written off' })
    await eventually(async () => expect(await openKeys()).toEqual([]))
  })

  it('[ALERT-11] a document seen again is reconciled whole: an alert lost from the store opens again, and the mirror follows', async () => {
    await t.stop()
    t = await startTestServer({ limits: { idleUnloadMs: 50 } })
    const { admin, shelf, item } = await stocked(3, 5)
    await eventually(async () => expect(await openKeys()).toEqual([`low_stock:${item}`]))
    const [lost] = await t.server.alerts.list('acme', { status: 'open' })
    if (!lost) throw new Error('an open alert')
    // Behind the duty's back (another writer, a restored database): the alert is resolved.
    await t.storage.resolveAlert('acme', lost.id)
    admin.destroy()
    await eventually(() => expect(t.server.relay.documentCount).toBe(0)) // unloaded
    const again = await t.client('admin')
    await synced(again)
    const other = again.inv.createItem({ sku: 'OTHER', name: 'Other' }) // any change: the document is seen again
    again.inv.receive({ item: other, location: shelf, quantity: 50 })
    await eventually(async () => expect(await openKeys()).toEqual([`low_stock:${item}`]))
    const [reopened] = await t.server.alerts.list('acme', { status: 'open' })
    expect(reopened?.id).not.toBe(lost.id)
    await eventually(() => expect(readAlertMirror(again.doc).get(`low_stock:${item}`)?.id).toBe(reopened?.id))
  })
})

describe('alerts over REST', () => {
  it('[ALERT-7] an editor acknowledges an alert: it stays open until its condition clears; the history has every step; a viewer may not', async () => {
    const { admin, shelf, item } = await stocked(2, 5)
    await eventually(async () => expect(await openKeys()).toEqual([`low_stock:${item}`]))
    const [alert] = await t.server.alerts.list('acme', { status: 'open' })
    if (!alert) throw new Error('an open alert')
    expect((await t.api('vic', 'POST', `/alerts/${alert.id}/ack`)).status).toBe(403)
    const acked = await t.api('ed', 'POST', `/alerts/${alert.id}/ack`)
    expect(acked.status).toBe(200)
    expect(acked.json.alert).toMatchObject({ id: alert.id, status: 'open', acknowledgedBy: t.users['ed']?.id })
    expect((await t.api('edna', 'POST', `/alerts/${alert.id}/ack`)).json.alert).toMatchObject({ acknowledgedBy: t.users['ed']?.id })
    await eventually(() => expect(readAlertMirror(admin.doc).get(`low_stock:${item}`)).toMatchObject({ acknowledged: true, acknowledgedBy: t.users['ed']?.id }))
    expect(await openKeys()).toEqual([`low_stock:${item}`])

    admin.inv.receive({ item, location: shelf, quantity: 10 })
    await eventually(async () => expect(await openKeys()).toEqual([]))
    const shown = await t.api('vic', 'GET', `/alerts/${alert.id}`)
    expect(shown.status).toBe(200)
    expect((shown.json.events as Array<{ type: string; actor: string | null }>).map((e) => [e.type, e.actor])).toEqual([
      ['opened', null], ['acknowledged', t.users['ed']?.id], ['resolved', null],
    ])
    expect(await t.api('ed', 'POST', `/alerts/${alert.id}/ack`)).toMatchObject({ status: 409, json: { error: { code: 'alert-resolved' } } })
    expect((await t.api('ed', 'POST', '/alerts/al_nothing/ack')).status).toBe(404)
    expect((await t.api('ed', 'GET', '/alerts/al_nothing')).status).toBe(404)
  })

  it('[ALERT-8] GET alerts lists open ones by default, all or resolved on request, newest first and paged; bad parameters are 400; another tenant sees none', async () => {
    const { admin, shelf, item } = await stocked(1, 5)
    const nuts = admin.inv.createItem({ sku: 'NUT', name: 'Nut', reorderPoint: 5 })
    admin.inv.receive({ item: nuts, location: shelf, quantity: 2 })
    await eventually(async () => expect((await openKeys()).length).toBe(2))
    admin.inv.receive({ item, location: shelf, quantity: 50 })
    await eventually(async () => expect((await openKeys()).length).toBe(1))
    const open = await t.api('vic', 'GET', '/alerts')
    expect((open.json.alerts as AlertRecord[]).map((a) => a.key)).toEqual([`low_stock:${nuts}`])
    expect(open.json.next).toBeNull()
    const all = await t.api('vic', 'GET', '/alerts?status=all')
    expect((all.json.alerts as AlertRecord[]).map((a) => a.status).sort()).toEqual(['open', 'resolved'])
    expect(((await t.api('vic', 'GET', '/alerts?status=resolved')).json.alerts as AlertRecord[]).map((a) => a.item)).toEqual([item])
    const first = await t.api('vic', 'GET', '/alerts?status=all&limit=1')
    const second = await t.api('vic', 'GET', `/alerts?status=all&limit=1&before=${String(first.json.next)}`)
    expect([...(first.json.alerts as AlertRecord[]), ...(second.json.alerts as AlertRecord[])].map((a) => a.id)).toEqual((all.json.alerts as AlertRecord[]).map((a) => a.id))
    for (const q of ['status=closed', 'limit=0', 'limit=x', 'before=al_nothing']) expect((await t.api('vic', 'GET', `/alerts?${q}`)).status).toBe(400)
    expect((await t.api('gus', 'GET', '/alerts?status=all')).json.alerts).toEqual([])
  })
})

/** An SSE client over fetch: events as they arrive. */
const openStream = async (url: string, headers: Record<string, string> = {}) => {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  const events: Array<{ event: string; data: unknown; at: number }> = []
  const comments: string[] = []
  const reading = (async () => {
    if (!res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    const reader = res.body.getReader()
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += decoder.decode(chunk.value, { stream: true })
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = block.split('\n')
          if (lines.every((l) => l.startsWith(':'))) comments.push(block)
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message'
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
          if (data) events.push({ event, data: JSON.parse(data) as unknown, at: performance.now() })
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err
    }
  })()
  return { res, events, comments, reading, close: async () => (controller.abort(), await reading) }
}

describe('alert stream', () => {
  it('[ALERT-9] the stream sends the open alerts, then delivers a new alert within a second of the change; EventSource may pass ?token=; the server lets go when the client does', async () => {
    const { admin, shelf, item } = await stocked(2, 5)
    await eventually(async () => expect(await openKeys()).toEqual([`low_stock:${item}`]))
    const token = await t.token('vic')
    const stream = await openStream(`${t.server.url}/api/tenants/acme/alerts/stream?token=${encodeURIComponent(token)}`)
    expect(stream.res.status).toBe(200)
    expect(stream.res.headers.get('content-type')).toContain('text/event-stream')
    await eventually(() => expect(stream.events[0]).toMatchObject({ event: 'alerts', data: { tenant: 'acme', alerts: [expect.objectContaining({ key: `low_stock:${item}` })] } }))
    await eventually(() => expect(t.server.alerts.subscriberCount).toBe(1))

    const changedAt = performance.now()
    admin.inv.pick({ item, location: shelf, quantity: 2 })
    await eventually(() => expect(stream.events.find((e) => e.event === 'alert.opened')).toBeDefined())
    const opened = stream.events.find((e) => e.event === 'alert.opened')
    expect(opened?.data).toMatchObject({ event: 'alert.opened', tenant: 'acme', alert: { key: `out_of_stock:${item}`, severity: 'high' } })
    const elapsed = (opened?.at ?? Infinity) - changedAt
    console.log(`[ALERT-9] change to SSE arrival: ${elapsed.toFixed(0)} ms`)
    expect(elapsed).toBeLessThan(1000)
    await eventually(() => expect(stream.events.map((e) => e.event)).toContain('alert.resolved')) // low_stock, superseded

    await stream.close()
    await eventually(() => expect(t.server.alerts.subscriberCount).toBe(0))
  })

  it('[ALERT-9] the stream needs a token of the tenant; the header works too; heartbeats keep it alive', async () => {
    await t.stop()
    t = await startTestServer({ alerts: { stream: { heartbeatMs: 50 } } })
    expect((await fetch(`${t.server.url}/api/tenants/acme/alerts/stream`)).status).toBe(401)
    expect((await fetch(`${t.server.url}/api/tenants/acme/alerts/stream?token=garbage`)).status).toBe(401)
    expect((await fetch(`${t.server.url}/api/tenants/acme/alerts/stream?token=${await t.token('gus')}`)).status).toBe(403)
    // ?token= is for the stream only.
    expect((await fetch(`${t.server.url}/api/tenants/acme/alerts?token=${await t.token('vic')}`)).status).toBe(401)
    const stream = await openStream(`${t.server.url}/api/tenants/acme/alerts/stream`, { authorization: `Bearer ${await t.token('vic')}` })
    await eventually(() => expect(stream.events[0]).toMatchObject({ event: 'alerts', data: { alerts: [] } }))
    await eventually(() => expect(stream.comments.length).toBeGreaterThan(1))
    await stream.close()
  })

  it('[ALERT-9] the stream ends when the token it was opened with expires', async () => {
    const user = t.users['vic']
    if (!user) throw new Error('vic')
    const { token } = await issueTokens(SECRET, user, Date.now(), { accessSeconds: 1, refreshSeconds: 60 })
    const stream = await openStream(`${t.server.url}/api/tenants/acme/alerts/stream?token=${encodeURIComponent(token)}`)
    expect(stream.res.status).toBe(200)
    let ended = false
    void stream.reading.then(() => (ended = true))
    await eventually(() => expect(ended).toBe(true), 5_000)
    expect(t.server.alerts.subscriberCount).toBe(0)
  })
})
