/** The alert and webhook part of the Storage contract (called from contract.ts). */
import { describe, expect, it } from 'vitest'
import type { AttemptOutcome, NewAlert } from './alert-types.js'
import { StorageError } from './types.js'
import type { Storage } from './types.js'

const alert = (key: string, overrides: Partial<NewAlert> = {}): NewAlert => ({
  tenant: 'acme',
  key,
  kind: 'low_stock',
  severity: 'warning',
  item: 'it_1',
  location: null,
  sku: 'BOLT',
  detail: { name: 'Bolt', onHand: 2, reorderPoint: 5 },
  ...overrides,
})

const failure = async (p: Promise<unknown>): Promise<StorageError> => {
  const error: unknown = await p.then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(StorageError)
  return error as StorageError
}

const outcome = (o: Partial<AttemptOutcome>): AttemptOutcome => ({ statusCode: 200, error: null, durationMs: 12, status: 'delivered', nextAttemptAt: null, ...o })

export const alertContract = (
  storage: () => Storage,
  persistent: { it: (name: string, fn: () => Promise<void>) => void; reopen: () => Promise<void> },
): void => {
  describe('alerts', () => {
    it('[ALERT-STORE-1] an opened alert comes back whole; a second open alert with the same key is refused; after resolving, the key may open again', async () => {
      const opened = await storage().openAlert(alert('low_stock:it_1'))
      expect(opened).toMatchObject({
        tenant: 'acme', key: 'low_stock:it_1', kind: 'low_stock', severity: 'warning', item: 'it_1', location: null, sku: 'BOLT',
        detail: { name: 'Bolt', onHand: 2, reorderPoint: 5 }, status: 'open', resolvedAt: null, acknowledgedAt: null, acknowledgedBy: null,
      })
      expect(opened.id).toMatch(/^al_/)
      expect(await storage().getAlert('acme', opened.id)).toEqual(opened)
      expect((await failure(storage().openAlert(alert('low_stock:it_1')))).code).toBe('conflict')
      await storage().openAlert(alert('negative_location:it_1@loc_1', { kind: 'negative_location', location: 'loc_1' }))
      await storage().resolveAlert('acme', opened.id)
      const again = await storage().openAlert(alert('low_stock:it_1'))
      expect(again.id).not.toBe(opened.id)
      expect((await storage().listAlerts('acme', { status: 'open' })).map((a) => a.key).sort()).toEqual(['low_stock:it_1', 'negative_location:it_1@loc_1'])
    })

    it('[ALERT-STORE-1] concurrent opens of one key agree on a single open alert', async () => {
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => storage().openAlert(alert('out_of_stock:it_9', { kind: 'out_of_stock', severity: 'high' }))))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      expect((await storage().listAlerts('acme', { status: 'open' })).filter((a) => a.key === 'out_of_stock:it_9')).toHaveLength(1)
    })

    it('[ALERT-STORE-2] resolve and acknowledge record their step in the history; an acknowledged alert stays open; a resolved one takes neither again', async () => {
      const a = await storage().openAlert(alert('low_stock:it_2', { item: 'it_2' }))
      const acked = await storage().acknowledgeAlert('acme', a.id, 'u_ed')
      expect(acked).toMatchObject({ status: 'open', acknowledgedBy: 'u_ed' })
      expect(acked.acknowledgedAt).toBeGreaterThanOrEqual(a.openedAt)
      expect(await storage().acknowledgeAlert('acme', a.id, 'u_other')).toEqual(acked) // again: nothing changes
      const resolved = await storage().resolveAlert('acme', a.id)
      expect(resolved).toMatchObject({ status: 'resolved', acknowledgedBy: 'u_ed' })
      expect(resolved.resolvedAt).toBeGreaterThanOrEqual(a.openedAt)
      expect((await failure(storage().resolveAlert('acme', a.id))).code).toBe('conflict')
      expect((await failure(storage().acknowledgeAlert('acme', a.id, 'u_ed'))).code).toBe('conflict')
      expect((await failure(storage().resolveAlert('acme', 'al_nothing'))).code).toBe('not-found')
      expect((await failure(storage().acknowledgeAlert('acme', 'al_nothing', 'u_ed'))).code).toBe('not-found')
      const history = await storage().listAlertEvents('acme', a.id)
      expect(history.map((e) => [e.type, e.actor])).toEqual([['opened', null], ['acknowledged', 'u_ed'], ['resolved', null]])
      expect(history.every((e) => e.alert === a.id)).toBe(true)
      expect(await storage().listAlertEvents('acme', 'al_nothing')).toEqual([])
    })

    it('[ALERT-STORE-3] lists are newest first, filtered by status and paged; one tenant never sees or changes another tenant\'s alerts', async () => {
      await storage().createTenant({ id: 'globex', name: 'Globex' })
      const opened = []
      for (let i = 0; i < 5; i++) opened.push(await storage().openAlert(alert(`low_stock:it_${i}`, { item: `it_${i}` })))
      await storage().resolveAlert('acme', opened[1]?.id ?? '')
      await storage().resolveAlert('acme', opened[3]?.id ?? '')
      const all = await storage().listAlerts('acme')
      const expected = [...opened].sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? 1 : -1)).map((a) => a.id)
      expect(all.map((a) => a.id)).toEqual(expected)
      expect((await storage().listAlerts('acme', { status: 'all' })).map((a) => a.id)).toEqual(expected)
      expect((await storage().listAlerts('acme', { status: 'open' })).every((a) => a.status === 'open')).toBe(true)
      expect(await storage().listAlerts('acme', { status: 'open' })).toHaveLength(3)
      expect((await storage().listAlerts('acme', { status: 'resolved' })).map((a) => a.id).sort()).toEqual([opened[1]?.id, opened[3]?.id].sort())
      const paged: string[] = []
      for (let page = await storage().listAlerts('acme', { limit: 2 }); page.length > 0; ) {
        paged.push(...page.map((a) => a.id))
        page = await storage().listAlerts('acme', { limit: 2, before: page[page.length - 1]?.id ?? '' })
      }
      expect(paged).toEqual(expected)

      const a = opened[0]?.id ?? ''
      expect(await storage().getAlert('globex', a)).toBeUndefined()
      expect(await storage().listAlerts('globex')).toEqual([])
      expect((await failure(storage().resolveAlert('globex', a))).code).toBe('not-found')
      expect((await failure(storage().acknowledgeAlert('globex', a, 'u_gus'))).code).toBe('not-found')
      expect(await storage().listAlertEvents('globex', a)).toEqual([])
      await storage().openAlert(alert('low_stock:it_0', { tenant: 'globex', item: 'it_0' })) // same key, other tenant
    })

    it('[ALERT-STORE-4] bad alerts, filters, limits and cursors are refused as invalid; an unknown tenant is not-found', async () => {
      // Casts: the point is what a caller without the types would send.
      for (const bad of [alert(''), alert('k', { kind: 'sold_out' as 'low_stock' }), alert('k', { severity: 'urgent' as 'high' }), alert('k', { item: '' })]) {
        expect((await failure(storage().openAlert(bad))).code).toBe('invalid')
      }
      expect((await failure(storage().openAlert(alert('k', { tenant: 'nowhere' })))).code).toBe('not-found')
      expect((await failure(storage().listAlerts('acme', { status: 'closed' as 'open' }))).code).toBe('invalid')
      expect((await failure(storage().listAlerts('acme', { limit: 0 }))).code).toBe('invalid')
      expect((await failure(storage().listAlerts('acme', { before: 'al_nothing' }))).code).toBe('invalid')
    })
  })

  describe('webhooks', () => {
    const secret = 'a-secret-of-enough-length'

    it('[WEBHOOK-STORE-1] a webhook comes back with its secret and is listed oldest first; it can be deleted with its deliveries; other tenants never see it', async () => {
      await storage().createTenant({ id: 'globex', name: 'Globex' })
      const a = await storage().createWebhook({ tenant: 'acme', url: 'https://hooks.example.com/qm', secret, createdBy: 'u_admin' })
      const b = await storage().createWebhook({ tenant: 'acme', url: 'http://127.0.0.1:9999/in', secret: `${secret}-2`, createdBy: null })
      expect(a).toMatchObject({ tenant: 'acme', url: 'https://hooks.example.com/qm', secret, createdBy: 'u_admin' })
      expect(a.id).toMatch(/^wh_/)
      expect(await storage().getWebhook('acme', a.id)).toEqual(a)
      const oldestFirst = [a, b].sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1)).map((w) => w.id)
      expect((await storage().listWebhooks('acme')).map((w) => w.id)).toEqual(oldestFirst)
      expect(await storage().getWebhook('globex', a.id)).toBeUndefined()
      expect(await storage().listWebhooks('globex')).toEqual([])
      expect(await storage().deleteWebhook('globex', a.id)).toBe(false)
      const d = await storage().createDelivery({ tenant: 'acme', webhook: a.id, event: 'alert.opened', alert: 'al_1', body: '{}', nextAttemptAt: 1 })
      expect(await storage().deleteWebhook('acme', a.id)).toBe(true)
      expect(await storage().getWebhook('acme', a.id)).toBeUndefined()
      expect(await storage().getDelivery('acme', d.id)).toBeUndefined()
      expect(await storage().deleteWebhook('acme', a.id)).toBe(false)
    })

    it('[WEBHOOK-STORE-1] a URL that is not absolute http(s), or carries credentials, and a short secret are refused as invalid', async () => {
      for (const url of ['ftp://example.com/x', '/relative', 'javascript:alert(1)', 'https://user:pw@example.com/', `https://example.com/${'x'.repeat(2100)}`]) {
        expect((await failure(storage().createWebhook({ tenant: 'acme', url, secret, createdBy: null }))).code).toBe('invalid')
      }
      expect((await failure(storage().createWebhook({ tenant: 'acme', url: 'https://example.com', secret: 'short', createdBy: null }))).code).toBe('invalid')
      expect((await failure(storage().createWebhook({ tenant: 'nowhere', url: 'https://example.com', secret, createdBy: null }))).code).toBe('not-found')
    })

    it('[WEBHOOK-STORE-2] a delivery logs every attempt in order with its status or error and duration; a finished one takes no more; pending ones of every tenant are listed earliest first', async () => {
      await storage().createTenant({ id: 'globex', name: 'Globex' })
      const w = await storage().createWebhook({ tenant: 'acme', url: 'https://example.com/in', secret, createdBy: null })
      const g = await storage().createWebhook({ tenant: 'globex', url: 'https://example.com/in', secret, createdBy: null })
      const d = await storage().createDelivery({ tenant: 'acme', webhook: w.id, event: 'alert.opened', alert: 'al_1', body: '{"event":"alert.opened"}', nextAttemptAt: 1000 })
      expect(d).toMatchObject({ tenant: 'acme', webhook: w.id, event: 'alert.opened', alert: 'al_1', body: '{"event":"alert.opened"}', status: 'pending', nextAttemptAt: 1000, attempts: [] })
      const later = await storage().createDelivery({ tenant: 'globex', webhook: g.id, event: 'alert.resolved', alert: 'al_2', body: '{}', nextAttemptAt: 5000 })
      const sooner = await storage().createDelivery({ tenant: 'globex', webhook: g.id, event: 'alert.resolved', alert: 'al_3', body: '{}', nextAttemptAt: 10 })

      await storage().recordAttempt('acme', d.id, outcome({ statusCode: 500, durationMs: 30.5, status: 'pending', nextAttemptAt: 2000 }))
      await storage().recordAttempt('acme', d.id, outcome({ statusCode: null, error: 'timed out after 10000 ms', durationMs: 10000, status: 'pending', nextAttemptAt: 4000 }))
      const done = await storage().recordAttempt('acme', d.id, outcome({ statusCode: 204, durationMs: 8 }))
      expect(done).toMatchObject({ status: 'delivered', nextAttemptAt: null })
      expect(done.attempts.map(({ at: _at, ...a }) => a)).toEqual([
        { attempt: 1, statusCode: 500, error: null, durationMs: 30.5 },
        { attempt: 2, statusCode: null, error: 'timed out after 10000 ms', durationMs: 10000 },
        { attempt: 3, statusCode: 204, error: null, durationMs: 8 },
      ])
      expect(await storage().getDelivery('acme', d.id)).toEqual(done)
      expect((await failure(storage().recordAttempt('acme', d.id, outcome({})))).code).toBe('conflict')
      expect((await failure(storage().recordAttempt('globex', d.id, outcome({})))).code).toBe('not-found')
      expect((await failure(storage().recordAttempt('acme', 'dl_nothing', outcome({})))).code).toBe('not-found')
      expect((await failure(storage().recordAttempt('globex', later.id, outcome({ status: 'pending', nextAttemptAt: null })))).code).toBe('invalid')

      expect((await storage().listDeliveries('acme', w.id)).map((x) => x.id)).toEqual([d.id])
      expect(await storage().listDeliveries('globex', w.id)).toEqual([])
      expect((await storage().listPendingDeliveries()).map((x) => x.id)).toEqual([sooner.id, later.id])
      await storage().recordAttempt('globex', sooner.id, outcome({ statusCode: 410, status: 'failed' }))
      expect((await storage().listPendingDeliveries()).map((x) => x.id)).toEqual([later.id])
      expect((await failure(storage().createDelivery({ tenant: 'acme', webhook: g.id, event: 'alert.opened', alert: 'al_1', body: '{}', nextAttemptAt: 1 }))).code).toBe('not-found')
    })

    persistent.it('[ALERT-STORE-5] alerts with their history, webhooks and deliveries survive close and reopen; one open alert per key still holds', async () => {
      const a = await storage().openAlert(alert('negative_stock:it_5', { kind: 'negative_stock', severity: 'critical', item: 'it_5' }))
      await storage().acknowledgeAlert('acme', a.id, 'u_ed')
      const w = await storage().createWebhook({ tenant: 'acme', url: 'https://example.com/in', secret, createdBy: null })
      const d = await storage().createDelivery({ tenant: 'acme', webhook: w.id, event: 'alert.opened', alert: a.id, body: '{}', nextAttemptAt: 1 })
      await storage().recordAttempt('acme', d.id, outcome({ statusCode: 503, status: 'pending', nextAttemptAt: 2 }))
      await persistent.reopen()
      expect(await storage().getAlert('acme', a.id)).toMatchObject({ status: 'open', acknowledgedBy: 'u_ed', detail: { name: 'Bolt', onHand: 2 } })
      expect((await storage().listAlertEvents('acme', a.id)).map((e) => e.type)).toEqual(['opened', 'acknowledged'])
      expect((await failure(storage().openAlert(alert('negative_stock:it_5', { kind: 'negative_stock', severity: 'critical', item: 'it_5' })))).code).toBe('conflict')
      expect(await storage().getWebhook('acme', w.id)).toEqual(w)
      expect((await storage().getDelivery('acme', d.id))?.attempts).toHaveLength(1)
      expect((await storage().listPendingDeliveries()).map((x) => x.id)).toEqual([d.id])
    })
  })
}
