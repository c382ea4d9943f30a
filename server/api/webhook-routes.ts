/**
 * Webhooks over REST, for admins only: add (the secret is answered once), list, remove, and the
 * delivery log. Expects the session middleware in front (server/app.ts).
 */
import { Hono } from 'hono'
import { addWebhook, publicWebhook } from '../alerts/webhooks.js'
import type { Storage } from '../storage/types.js'
import { StorageError } from '../storage/types.js'
import { apiError } from './errors.js'
import { requireRole } from './session.js'
import type { ApiEnv } from './session.js'

export const webhookRoutes = (storage: Storage) => {
  const app = new Hono<ApiEnv>()
  app.onError((err, c) => {
    if (err instanceof StorageError && err.code === 'invalid') return apiError(c, 400, 'invalid-request', err.message)
    throw err
  })
  app.use('/:tenant/webhooks', requireRole('admin'))
  app.use('/:tenant/webhooks/*', requireRole('admin'))

  app.post('/:tenant/webhooks', async (c) => {
    const body: unknown = await c.req.json().catch(() => null)
    const { url, secret } = (typeof body === 'object' && body !== null ? body : {}) as { url?: unknown; secret?: unknown }
    if (typeof url !== 'string' || (secret !== undefined && typeof secret !== 'string')) {
      return apiError(c, 400, 'invalid-request', 'send JSON { "url": "https://…", "secret"?: "…" }')
    }
    const session = c.get('session')
    const webhook = await addWebhook(storage, { tenant: session.tenant, url, secret, createdBy: session.userId })
    return c.json({ webhook: publicWebhook(webhook), secret: webhook.secret }, 201)
  })

  app.get('/:tenant/webhooks', async (c) => c.json({ webhooks: (await storage.listWebhooks(c.req.param('tenant'))).map(publicWebhook) }))

  app.delete('/:tenant/webhooks/:id', async (c) => {
    const id = c.req.param('id')
    if (!(await storage.deleteWebhook(c.req.param('tenant'), id))) return apiError(c, 404, 'not-found', `no webhook ${id}`)
    return c.body(null, 204)
  })

  app.get('/:tenant/webhooks/:id/deliveries', async (c) => {
    const tenant = c.req.param('tenant')
    const id = c.req.param('id')
    const limit = Number(c.req.query('limit') ?? 100)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) return apiError(c, 400, 'invalid-request', 'limit must be 1 to 1000')
    if (!(await storage.getWebhook(tenant, id))) return apiError(c, 404, 'not-found', `no webhook ${id}`)
    return c.json({ deliveries: await storage.listDeliveries(tenant, id, { limit }) })
  })

  return app
}
