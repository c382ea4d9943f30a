/**
 * Alerts over REST and Server-Sent Events: list, look, acknowledge, and a live stream. Any role may
 * read; admins and editors acknowledge. Expects the session middleware in front (server/app.ts),
 * which also accepts `?token=` on the stream, because EventSource cannot send headers.
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { AlertAlreadyResolved, AlertNotFound } from '../alerts/service.js'
import type { AlertService } from '../alerts/service.js'
import type { AlertNotice } from '../alerts/notice.js'
import { ALERT_FILTERS } from '../storage/alert-validate.js'
import type { AlertFilter } from '../storage/alert-types.js'
import { StorageError } from '../storage/types.js'
import { apiError } from './errors.js'
import { requireRole } from './session.js'
import type { ApiEnv } from './session.js'

export interface AlertStreamSettings {
  /** A comment line this often keeps proxies from closing an idle stream. @default 15 s */
  readonly heartbeatMs: number
  /**
   * Notices waiting for a slow reader; past this the stream ends and the client, reconnecting,
   * gets the open alerts afresh. @default 1000
   */
  readonly maxQueued: number
}

export const DEFAULT_STREAM_SETTINGS: AlertStreamSettings = { heartbeatMs: 15_000, maxQueued: 1000 }
/** Open alerts sent when a stream starts, at most. */
const MAX_SNAPSHOT = 1000

const isFilter = (s: string): s is AlertFilter => (ALERT_FILTERS as readonly string[]).includes(s)

export const alertRoutes = (alerts: AlertService, settings: AlertStreamSettings = DEFAULT_STREAM_SETTINGS) => {
  const app = new Hono<ApiEnv>()
  app.onError((err, c) => {
    if (err instanceof AlertNotFound) return apiError(c, 404, 'not-found', err.message)
    if (err instanceof AlertAlreadyResolved) return apiError(c, 409, 'alert-resolved', err.message)
    if (err instanceof StorageError && err.code === 'invalid') return apiError(c, 400, 'invalid-request', err.message)
    throw err
  })

  app.get('/:tenant/alerts', async (c) => {
    const status = c.req.query('status') ?? 'open'
    const limit = Number(c.req.query('limit') ?? 100)
    if (!isFilter(status)) return apiError(c, 400, 'invalid-request', `status must be one of ${ALERT_FILTERS.join(', ')}`)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) return apiError(c, 400, 'invalid-request', 'limit must be 1 to 1000')
    const before = c.req.query('before')
    const page = await alerts.list(c.req.param('tenant'), { status, limit, ...(before ? { before } : {}) })
    const last = page[page.length - 1]
    return c.json({ alerts: page, next: page.length === limit && last ? last.id : null })
  })

  app.get('/:tenant/alerts/stream', (c) => {
    const { tenant, expiresAt } = c.get('session')
    return streamSSE(c, async (stream) => {
      const queue: AlertNotice[] = []
      let wake: (() => void) | null = null
      let ended = false
      const end = () => {
        ended = true
        wake?.()
      }
      const unsubscribe = alerts.subscribe(
        tenant,
        (notice) => {
          if (queue.push(notice) > settings.maxQueued) end()
          wake?.()
        },
        end,
      )
      stream.onAbort(end)
      const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), settings.heartbeatMs)
      // Rights are checked when a stream opens; expiry makes the client come back and be checked again.
      const expiry = expiresAt === undefined ? null : setTimeout(end, Math.min(2 ** 31 - 1, Math.max(0, expiresAt - Date.now())))
      try {
        // Subscribed first, listed second: a notice may repeat what the list shows, never be missed.
        const open = await alerts.list(tenant, { status: 'open', limit: MAX_SNAPSHOT })
        await stream.writeSSE({ event: 'alerts', data: JSON.stringify({ tenant, alerts: open }), retry: 3000 })
        while (!ended) {
          const notice = queue.shift()
          if (notice) {
            await stream.writeSSE({ event: notice.event, data: JSON.stringify(notice) })
            continue
          }
          await new Promise<void>((resolve) => (wake = resolve))
          wake = null
        }
      } finally {
        clearInterval(heartbeat)
        if (expiry) clearTimeout(expiry)
        unsubscribe()
      }
    })
  })

  app.get('/:tenant/alerts/:id', async (c) => c.json(await alerts.get(c.req.param('tenant'), c.req.param('id'))))

  app.post('/:tenant/alerts/:id/ack', requireRole('admin', 'editor'), async (c) => {
    const session = c.get('session')
    return c.json({ alert: await alerts.acknowledge(session.tenant, c.req.param('id'), session.userId) })
  })

  return app
}
