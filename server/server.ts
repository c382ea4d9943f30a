/**
 * Starts Quartermaster: one Node HTTP server on one port for Hono's routes and the relay's
 * WebSocket upgrades. Tests start it on port 0; main.ts starts it from the environment.
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { createApp } from './app.js'
import { defaultClientDir } from './client-app.js'
import { AlertService } from './alerts/service.js'
import type { AlertSettings } from './alerts/service.js'
import { DEFAULT_WEBHOOK_SETTINGS, WebhookDispatcher } from './alerts/webhooks.js'
import type { WebhookSettings } from './alerts/webhooks.js'
import { DEFAULT_STREAM_SETTINGS } from './api/alert-routes.js'
import type { AlertStreamSettings } from './api/alert-routes.js'
import { DEFAULT_TOKEN_TTL } from './auth/tokens.js'
import type { TokenTtl } from './auth/tokens.js'
import { Relay } from './relay/relay.js'
import type { Fanout } from './scale/fanout.js'
import { LocalLeases } from './scale/leases.js'
import type { DutyLeases } from './scale/leases.js'
import { storageHooks } from './relay/storage-hooks.js'
import type { RelayHooks, RelayLimits } from './relay/types.js'
import { SnapshotScheduler } from './snapshots/scheduler.js'
import { DEFAULT_RETENTION, SnapshotService } from './snapshots/service.js'
import type { SnapshotRetention } from './snapshots/service.js'
import type { Storage } from './storage/types.js'

export interface ServerOptions {
  readonly storage: Storage
  readonly secret: string
  readonly host?: string
  readonly port?: number
  readonly limits?: Partial<RelayLimits>
  readonly tokenTtl?: TokenTtl
  /** Scheduled snapshots and retention. @default hourly, 168 scheduled kept, others 90 days */
  readonly snapshots?: { readonly intervalMs?: number; readonly retention?: SnapshotRetention }
  /** How other instances hear of changes (REDIS_URL). @default one instance */
  readonly fanout?: Fanout
  /** Who does per-tenant server duties (REDIS_URL). @default this instance, for every tenant */
  readonly leases?: DutyLeases
  /** Alert derivation, the live stream and webhook deliveries. @default DEFAULT_ALERT_SETTINGS, DEFAULT_STREAM_SETTINGS, DEFAULT_WEBHOOK_SETTINGS */
  readonly alerts?: {
    readonly settings?: Partial<AlertSettings>
    readonly stream?: Partial<AlertStreamSettings>
    readonly webhooks?: Partial<WebhookSettings>
  }
  /** The built warehouse app served at `/`; null serves none. @default client/dist of this repository */
  readonly clientDir?: string | null
  /** Wraps the relay's hooks (tests slow authentication down or make storage fail with this). */
  readonly wrapHooks?: (hooks: RelayHooks) => RelayHooks
}

export interface RunningServer {
  readonly url: string
  readonly wsUrl: string
  readonly port: number
  readonly relay: Relay
  readonly storage: Storage
  readonly snapshots: SnapshotService
  readonly scheduler: SnapshotScheduler
  readonly alerts: AlertService
  readonly webhooks: WebhookDispatcher
  readonly http: Server
  /** Drains the relay (queued work stored, documents compacted, clients told 1012) and stops. */
  close(): Promise<void>
}

export const startServer = async (options: ServerOptions): Promise<RunningServer> => {
  const { storage, secret } = options
  // The alert duty needs the relay (for the document mirror) and the relay needs its hook: the
  // hook is bound late, and only runs once both exist (after a stored change).
  let alertDuty: AlertService | null = null
  const base = storageHooks({ storage, secret, changed: (event) => alertDuty?.changed(event) })
  const hooks = options.wrapHooks ? options.wrapHooks(base) : base
  const leases = options.leases ?? new LocalLeases()
  const relay = new Relay({
    hooks,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
  })
  const webhooks = new WebhookDispatcher(storage, leases, { ...DEFAULT_WEBHOOK_SETTINGS, ...options.alerts?.webhooks })
  const alerts = new AlertService({ storage, host: relay, leases, webhooks, ...(options.fanout ? { fanout: options.fanout } : {}) }, options.alerts?.settings)
  alertDuty = alerts
  const snapshots = new SnapshotService(storage, relay, options.snapshots?.retention ?? DEFAULT_RETENTION)
  const scheduler = new SnapshotScheduler(storage, snapshots, leases, { intervalMs: options.snapshots?.intervalMs ?? 60 * 60 * 1000 })
  const alertStream = { ...DEFAULT_STREAM_SETTINGS, ...options.alerts?.stream }
  const clientDir = options.clientDir === undefined ? defaultClientDir() : options.clientDir
  const app = createApp({ storage, relay, secret, tokenTtl: options.tokenTtl ?? DEFAULT_TOKEN_TTL, snapshots, alerts, alertStream, clientDir })
  const http = createAdaptorServer({ fetch: app.fetch }) as Server
  http.on('upgrade', (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject)
      resolve()
    })
  })
  const port = (http.address() as AddressInfo).port
  scheduler.start()
  await webhooks.start()
  const shown = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | null = null
  return {
    url: `http://${shown}:${port}`,
    wsUrl: `ws://${shown}:${port}/sync`,
    port,
    relay,
    storage,
    snapshots,
    scheduler,
    alerts,
    webhooks,
    http,
    close: () =>
      (closing ??= (async () => {
        await scheduler.stop()
        // No alert writes into documents that are going away; what is pending is judged after.
        alerts.releaseDocuments()
        await relay.shutdown()
        await alerts.close()
        await webhooks.close()
        await options.fanout?.close()
        await leases.close()
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      })()),
  }
}
