/**
 * Webhooks through real parts: a server on port 0, a receiver that is a real HTTP server on
 * 127.0.0.1, signed deliveries, retries and the delivery log over REST.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startServer } from '../server/server.js'
import type { DeliveryRecord } from '../server/storage/alert-types.js'
import { SECRET, allSaved, eventually, startTestServer, synced } from './support/server.js'
import type { TestServer } from './support/server.js'

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A webhook receiver on loopback that answers each request with the next status of `answers` (the last one repeats). */
const startReceiver = async (answers: number[]) => {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = answers[Math.min(received.length, answers.length) - 1] ?? 200
      res.end('thanks')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/qm`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** What a receiver does to check a delivery (docs/PROTOCOL.md, Webhooks). */
const verify = (secret: string, r: Received): boolean => {
  const timestamp = String(r.headers['x-quartermaster-timestamp'])
  const given = Buffer.from(String(r.headers['x-quartermaster-signature']))
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

let t: TestServer
const closers: Array<() => Promise<void>> = []
beforeEach(async () => {
  t = await startTestServer({ alerts: { webhooks: { baseDelayMs: 50, maxAttempts: 3, timeoutMs: 500 } } })
})
afterEach(async () => {
  await t.stop()
  for (const close of closers.splice(0)) await close()
})

/** An item that runs out: one out_of_stock alert opens. */
const runOut = async () => {
  const admin = await t.client('admin')
  await synced(admin)
  const shelf = admin.inv.createLocation({ name: 'Shelf' })
  const item = admin.inv.createItem({ sku: 'BOLT', name: 'Bolt' })
  admin.inv.receive({ item, location: shelf, quantity: 1 })
  admin.inv.pick({ item, location: shelf, quantity: 1 })
  await eventually(() => expect(allSaved(admin)).toBe(true))
  return { admin, shelf, item }
}

const deliveries = async (webhook: string) => (await t.api('admin', 'GET', `/webhooks/${webhook}/deliveries`)).json.deliveries as DeliveryRecord[]

describe('webhooks', () => {
  it('[WEBHOOK-1] a receiver gets a delivery signed with its secret, and the same delivery again after it first answered 500', async () => {
    const receiver = await startReceiver([500, 200])
    closers.push(receiver.close)
    const added = await t.api('admin', 'POST', '/webhooks', { url: receiver.url })
    expect(added.status).toBe(201)
    const secret = added.json.secret as string
    const webhook = (added.json.webhook as { id: string }).id
    expect(secret).toMatch(/^whsec_/)

    const { item } = await runOut()
    await eventually(() => expect(receiver.received).toHaveLength(2))
    const [first, second] = receiver.received
    if (!first || !second) throw new Error('two requests')
    for (const r of [first, second]) {
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['x-quartermaster-event']).toBe('alert.opened')
      expect(verify(secret, r)).toBe(true)
      expect(verify('not-the-secret-at-all', r)).toBe(false)
      expect(Math.abs(Number(r.headers['x-quartermaster-timestamp']) - Date.now() / 1000)).toBeLessThan(60)
    }
    expect(second.headers['x-quartermaster-delivery']).toBe(first.headers['x-quartermaster-delivery'])
    expect(second.body).toBe(first.body)
    expect(JSON.parse(first.body)).toMatchObject({ event: 'alert.opened', tenant: 'acme', alert: { kind: 'out_of_stock', severity: 'high', item, status: 'open' } })

    await eventually(async () => expect((await deliveries(webhook))[0]?.status).toBe('delivered'))
    const [log] = await deliveries(webhook)
    expect(log).toMatchObject({ id: first.headers['x-quartermaster-delivery'], event: 'alert.opened', nextAttemptAt: null })
    expect(log?.attempts.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([[1, 500, null], [2, 200, null]])
    expect(log?.attempts.every((a) => a.durationMs >= 0)).toBe(true)
  })

  it('[WEBHOOK-2] a receiver that keeps failing, times out or refuses is retried with backoff up to the last attempt, and each attempt is logged', async () => {
    const failing = await startReceiver([503])
    closers.push(failing.close)
    const silent = createServer(() => undefined) // never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    closers.push(() => new Promise<void>((resolve) => (silent.closeAllConnections(), silent.close(() => resolve()))))
    const refused = createServer()
    await new Promise<void>((resolve) => refused.listen(0, '127.0.0.1', resolve))
    const refusedPort = (refused.address() as AddressInfo).port
    await new Promise<void>((resolve) => refused.close(() => resolve())) // nothing listens there now

    const ids: Record<string, string> = {}
    for (const [name, url] of [['failing', failing.url], ['silent', `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`], ['refused', `http://127.0.0.1:${refusedPort}/`]] as const) {
      ids[name] = ((await t.api('admin', 'POST', '/webhooks', { url })).json.webhook as { id: string }).id
    }
    await runOut()
    await eventually(async () => {
      for (const id of Object.values(ids)) expect((await deliveries(id))[0]?.status).toBe('failed')
    }, 20_000)
    const [f] = await deliveries(ids.failing ?? '')
    expect(f?.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503])
    const [s] = await deliveries(ids.silent ?? '')
    expect(s?.attempts.map((a) => [a.statusCode, a.error])).toEqual(Array(3).fill([null, 'no answer within 500 ms']))
    const [r] = await deliveries(ids.refused ?? '')
    expect(r?.attempts).toHaveLength(3)
    expect(r?.attempts.every((a) => a.statusCode === null && /ECONNREFUSED|fetch failed/.test(a.error ?? ''))).toBe(true)
  })

  it('[WEBHOOK-3] only admins manage webhooks; the secret is shown once; URLs are http(s) only; removing one stops its deliveries', async () => {
    const receiver = await startReceiver([200])
    closers.push(receiver.close)
    expect((await t.api('ed', 'POST', '/webhooks', { url: receiver.url })).status).toBe(403)
    expect((await t.api('ed', 'GET', '/webhooks')).status).toBe(403)
    expect((await t.api('vic', 'GET', '/webhooks')).status).toBe(403)
    for (const body of [{ url: 'ftp://example.com/' }, { url: 'not a url' }, { url: receiver.url, secret: 'short' }, { nothing: true }]) {
      expect((await t.api('admin', 'POST', '/webhooks', body)).status).toBe(400)
    }
    const given = await t.api('admin', 'POST', '/webhooks', { url: receiver.url, secret: 'a-secret-chosen-by-the-admin' })
    expect(given).toMatchObject({ status: 201, json: { secret: 'a-secret-chosen-by-the-admin', webhook: { url: receiver.url, createdBy: t.users['admin']?.id } } })
    const id = (given.json.webhook as { id: string }).id
    const listed = await t.api('admin', 'GET', '/webhooks')
    expect(listed.json.webhooks).toEqual([expect.objectContaining({ id, url: receiver.url })])
    expect(JSON.stringify(listed.json)).not.toContain('a-secret-chosen-by-the-admin')
    expect((await t.api('gus', 'GET', '/webhooks')).json.webhooks).toEqual([])

    expect((await t.api('admin', 'DELETE', `/webhooks/${id}`)).status).toBe(204)
    expect((await t.api('admin', 'DELETE', `/webhooks/${id}`)).status).toBe(404)
    expect((await t.api('admin', 'GET', `/webhooks/${id}/deliveries`)).status).toBe(404)
    await runOut()
    await eventually(async () => expect((await t.server.alerts.list('acme', { status: 'open' })).length).toBe(1))
    await t.server.alerts.settled()
    expect(receiver.received).toEqual([])
  })

  it('[WEBHOOK-4] deliveries left pending by a stopped server are sent by the next one', async () => {
    await t.stop()
    const receiver = await startReceiver([500, 200])
    closers.push(receiver.close)
    // A long first wait: the server stops before the retry is due.
    t = await startTestServer({ storage: 'sqlite', alerts: { webhooks: { baseDelayMs: 60_000, maxAttempts: 3, timeoutMs: 500 } } })
    const webhook = ((await t.api('admin', 'POST', '/webhooks', { url: receiver.url })).json.webhook as { id: string }).id
    await runOut()
    await eventually(async () => expect((await deliveries(webhook))[0]?.attempts).toHaveLength(1))
    const pending = (await deliveries(webhook))[0]
    expect(pending?.status).toBe('pending')
    // The same store under a new server: the delivery resumes when due (made due now, to keep the test short).
    await t.server.close()
    await t.storage.recordAttempt('acme', pending?.id ?? '', { statusCode: 502, error: null, durationMs: 1, status: 'pending', nextAttemptAt: Date.now() })
    const next = await startServer({ storage: t.storage, secret: SECRET })
    try {
      await eventually(() => expect(receiver.received).toHaveLength(2))
      await eventually(async () => expect((await t.storage.getDelivery('acme', pending?.id ?? ''))?.status).toBe('delivered'))
      expect(receiver.received[1]?.headers['x-quartermaster-delivery']).toBe(pending?.id)
    } finally {
      await next.close()
    }
  })
})
