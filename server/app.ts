/**
 * The HTTP side: Hono routes over the relay and the store. Hono stays a thin layer; the relay does
 * the document work.
 */
import { Hono } from 'hono'
import type { TokenTtl } from './auth/tokens.js'
import type { AlertService } from './alerts/service.js'
import { alertRoutes, DEFAULT_STREAM_SETTINGS } from './api/alert-routes.js'
import type { AlertStreamSettings } from './api/alert-routes.js'
import { authRoutes } from './api/auth-routes.js'
import { deviceRoutes } from './api/device-routes.js'
import { apiError } from './api/errors.js'
import { requireSession } from './api/session.js'
import { snapshotRoutes } from './api/snapshot-routes.js'
import { tenantRoutes } from './api/tenant-routes.js'
import { webhookRoutes } from './api/webhook-routes.js'
import type { Relay } from './relay/relay.js'
import type { SnapshotService } from './snapshots/service.js'
import type { Storage } from './storage/types.js'
import { serveClientApp } from './client-app.js'

export interface AppDeps {
  readonly storage: Storage
  readonly relay: Relay
  readonly secret: string
  readonly tokenTtl: TokenTtl
  readonly snapshots: SnapshotService
  readonly alerts: AlertService
  readonly alertStream?: AlertStreamSettings
  /** The built PWA served at `/` (client/dist); null serves no app. */
  readonly clientDir?: string | null
}

/** EventSource cannot set headers: the alert stream also takes its token as `?token=`. */
const isAlertStream = (path: string) => /^\/api\/tenants\/[^/]+\/alerts\/stream$/.test(path)

export const createApp = ({ storage, relay, secret, tokenTtl, snapshots, alerts, alertStream, clientDir }: AppDeps): Hono => {
  const app = new Hono()
  app.route('/api/auth', authRoutes(storage, secret, tokenTtl))
  app.use('/api/tenants/:tenant/*', requireSession(storage, secret, { queryToken: isAlertStream }))
  app.route('/api/tenants', tenantRoutes(relay))
  app.route('/api/tenants', snapshotRoutes(storage, snapshots))
  app.route('/api/tenants', alertRoutes(alerts, alertStream ?? DEFAULT_STREAM_SETTINGS))
  app.route('/api/tenants', webhookRoutes(storage))
  app.route('/api/tenants', deviceRoutes(storage, relay))
  app.get('/api/health', (c) =>
    c.json({ status: 'ok', storage: storage.kind, connections: relay.connectionCount, documents: relay.documentCount }),
  )
  app.get('/metrics', (c) =>
    c.text(relay.metrics.render({ connections: relay.connectionCount, documents: relay.documentCount }), 200, {
      'content-type': 'text/plain; version=0.0.4',
    }),
  )
  // After every server route: the app's files, and index.html for its navigations.
  if (clientDir) app.use('*', serveClientApp(clientDir))
  app.notFound((c) => apiError(c, 404, 'not-found', `no route for ${c.req.method} ${c.req.path}`))
  app.onError((err, c) => {
    console.error('[http] unhandled error', err)
    return apiError(c, 500, 'internal', 'the server failed to answer this request; it has been logged')
  })
  return app
}
