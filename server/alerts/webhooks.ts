/**
 * Webhook deliveries: each alert notice becomes one delivery per webhook of the tenant, stored
 * first, then POSTed with an HMAC-SHA256 signature, and retried with exponential backoff until it
 * is answered 2xx or runs out of attempts. Every attempt goes into the delivery log. Sending runs
 * on timers, never in the relay's path; a restart resumes what was pending.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { DutyLeases } from '../scale/leases.js'
import type { DeliveryRecord, WebhookRecord } from '../storage/alert-types.js'
import type { Storage } from '../storage/types.js'
import type { AlertNotice } from './notice.js'

export interface WebhookSettings {
  /** Attempts per delivery, the first included (WEBHOOK_MAX_ATTEMPTS). @default 10 — about 40 minutes of retries with the default delays. */
  readonly maxAttempts: number
  /** Wait before the second attempt; doubles after each failure (WEBHOOK_RETRY_BASE_SECONDS). @default 5 s */
  readonly baseDelayMs: number
  /** Longest wait between two attempts. @default 1 hour */
  readonly maxDelayMs: number
  /** A receiver that has not answered after this long has failed the attempt (WEBHOOK_TIMEOUT_SECONDS). @default 10 s */
  readonly timeoutMs: number
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  maxAttempts: 10,
  baseDelayMs: 5_000,
  maxDelayMs: 60 * 60 * 1000,
  timeoutMs: 10_000,
}

/** Pending deliveries resumed at start, at most (the rest wait for the next start). */
const MAX_RESUMED = 1000

export const WEBHOOK_HEADERS = {
  event: 'x-quartermaster-event',
  delivery: 'x-quartermaster-delivery',
  timestamp: 'x-quartermaster-timestamp',
  signature: 'x-quartermaster-signature',
} as const

/** `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the webhook's secret. */
export const signWebhook = (secret: string, timestamp: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`

/** A secret for a new webhook: 32 random bytes, base64url, with a prefix that says what it is. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`

/** Wait after the n-th failed attempt: base · 2^(n−1), at most maxDelayMs. */
export const retryDelay = (attempt: number, s: WebhookSettings): number => Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** (attempt - 1))

const describeError = (err: unknown, timedOut: boolean, timeoutMs: number): string => {
  if (timedOut) return `no answer within ${timeoutMs} ms`
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
  return `${err instanceof Error ? err.message : String(err)}${cause}`.slice(0, 500)
}

export class WebhookDispatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>()
  private closed = false

  constructor(
    private readonly storage: Storage,
    private readonly leases: DutyLeases,
    readonly settings: WebhookSettings = DEFAULT_WEBHOOK_SETTINGS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One stored delivery per webhook of the tenant, each sent as soon as it can be. */
  async enqueue(notice: AlertNotice): Promise<void> {
    if (this.closed) return
    const webhooks = await this.storage.listWebhooks(notice.tenant)
    if (webhooks.length === 0) return
    const body = JSON.stringify(notice)
    for (const w of webhooks) {
      const d = await this.storage.createDelivery({ tenant: notice.tenant, webhook: w.id, event: notice.event, alert: notice.alert.id, body, nextAttemptAt: this.now() })
      this.schedule(d.tenant, d.id, 0)
    }
  }

  /** Resumes the deliveries left pending by an earlier run, for the tenants whose duty this instance holds. */
  async start(): Promise<void> {
    for (const d of await this.storage.listPendingDeliveries({ limit: MAX_RESUMED })) {
      if (await this.leases.holds(d.tenant)) this.schedule(d.tenant, d.id, Math.max(0, (d.nextAttemptAt ?? 0) - this.now()))
    }
  }

  private schedule(tenant: string, id: string, delayMs: number): void {
    if (this.closed || this.timers.has(id)) return
    const timer = setTimeout(() => {
      this.timers.delete(id)
      const controller = new AbortController()
      const done = this.attempt(tenant, id, controller)
        .catch((err: unknown) => {
          // The store failed around the attempt: the delivery is still pending there; try again later.
          console.error(`[webhooks] delivery ${id} of ${tenant} failed to run; retrying`, err)
          this.schedule(tenant, id, this.settings.baseDelayMs)
        })
        .finally(() => this.inFlight.delete(id))
      this.inFlight.set(id, { controller, done })
    }, delayMs)
    timer.unref()
    this.timers.set(id, timer)
  }

  private async attempt(tenant: string, id: string, controller: AbortController): Promise<void> {
    const delivery = await this.storage.getDelivery(tenant, id)
    if (!delivery || delivery.status !== 'pending') return
    const webhook = await this.storage.getWebhook(tenant, delivery.webhook)
    if (!webhook) return // removed meanwhile, with its deliveries
    const { statusCode, error, durationMs } = await this.post(webhook.url, webhook.secret, delivery, controller)
    if (this.closed) return // cut short by shutdown: still pending in the store, resumed at the next start
    const attempt = delivery.attempts.length + 1
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300
    const status = delivered ? 'delivered' : attempt >= this.settings.maxAttempts ? 'failed' : 'pending'
    const wait = retryDelay(attempt, this.settings)
    await this.storage.recordAttempt(tenant, id, { statusCode, error, durationMs, status, nextAttemptAt: status === 'pending' ? this.now() + wait : null })
    if (status === 'pending') this.schedule(tenant, id, wait)
  }

  private async post(url: string, secret: string, d: DeliveryRecord, controller: AbortController) {
    const timestamp = String(Math.floor(this.now() / 1000))
    let timedOut = false
    const timeout = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.settings.timeoutMs)
    const started = performance.now()
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Quartermaster-Webhooks/1',
          [WEBHOOK_HEADERS.event]: d.event,
          [WEBHOOK_HEADERS.delivery]: d.id,
          [WEBHOOK_HEADERS.timestamp]: timestamp,
          [WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, d.body),
        },
        body: d.body,
        redirect: 'manual', // a redirect is an answer, not a 2xx: receivers give their final URL
        signal: controller.signal,
      })
      // Only the status matters; drop the body without reading it.
      await res.body?.cancel().catch(() => undefined)
      return { statusCode: res.status, error: null, durationMs: performance.now() - started }
    } catch (err) {
      return { statusCode: null, error: describeError(err, timedOut, this.settings.timeoutMs), durationMs: performance.now() - started }
    } finally {
      clearTimeout(timeout)
    }
  }

  /** Stops sending: timers cleared, requests in flight aborted. What was pending stays pending in the store. */
  async close(): Promise<void> {
    this.closed = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    const running = [...this.inFlight.values()]
    for (const r of running) r.controller.abort()
    await Promise.allSettled(running.map((r) => r.done))
  }
}

/** Adds a webhook for the REST API and the CLI: the secret given, or a new one. */
export const addWebhook = (
  storage: Storage,
  input: { readonly tenant: string; readonly url: string; readonly secret?: string | undefined; readonly createdBy: string | null },
): Promise<WebhookRecord> =>
  storage.createWebhook({ tenant: input.tenant, url: input.url, secret: input.secret ?? newWebhookSecret(), createdBy: input.createdBy })

/** A webhook as lists show it: everything but the secret, which is shown once, on creation. */
export const publicWebhook = ({ secret: _secret, ...rest }: WebhookRecord): Omit<WebhookRecord, 'secret'> => rest
