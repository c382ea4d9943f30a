/**
 * Input checks for the alert and webhook stores, shared by every implementation so that each one
 * refuses the same things with the same messages. Each check throws StorageError('invalid', …).
 */
import { ALERT_KINDS, ALERT_SEVERITIES } from '../../sync/alerts.js'
import type { AlertFilter, AttemptOutcome, NewAlert, NewDelivery } from './alert-types.js'
import { StorageError } from './types.js'

const invalid = (message: string) => new StorageError('invalid', message)

export const ALERT_FILTERS: readonly AlertFilter[] = ['open', 'resolved', 'all']
export const MAX_WEBHOOK_URL_LENGTH = 2048
export const MIN_WEBHOOK_SECRET_LENGTH = 16
export const MAX_WEBHOOK_SECRET_LENGTH = 256
/** Largest delivery body: an alert is a few hundred bytes; this leaves room for long SKU lists. */
export const MAX_DELIVERY_BODY = 64 * 1024

const text = (what: string, value: unknown, max: number): void => {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw invalid(`${what} must be text of 1 to ${max} characters`)
}

export const checkNewAlert = (a: NewAlert): void => {
  text('an alert key', a.key, 300)
  if (!(ALERT_KINDS as readonly string[]).includes(a.kind)) throw invalid(`unknown alert kind ${JSON.stringify(a.kind)}`)
  if (!(ALERT_SEVERITIES as readonly string[]).includes(a.severity)) throw invalid(`unknown alert severity ${JSON.stringify(a.severity)}`)
  text('an alert item', a.item, 64)
  if (a.location !== null) text('an alert location', a.location, 64)
  if (typeof a.sku !== 'string' || a.sku.length > 64) throw invalid('an alert SKU is text of at most 64 characters')
  if (typeof a.detail !== 'object' || a.detail === null || Array.isArray(a.detail)) throw invalid('an alert detail is a JSON object')
}

export const checkAlertFilter = (status: string): void => {
  if (!(ALERT_FILTERS as readonly string[]).includes(status)) throw invalid(`an alert status filter is one of ${ALERT_FILTERS.join(', ')}`)
}

/** A webhook URL: absolute, http or https, no credentials in it. */
export const webhookUrlProblem = (url: string): string | undefined => {
  if (typeof url !== 'string' || url.length > MAX_WEBHOOK_URL_LENGTH) return `a webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${JSON.stringify(url)} is not an absolute URL`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `a webhook URL must be http or https (got ${parsed.protocol})`
  if (parsed.username || parsed.password) return 'a webhook URL must not carry a user name or password; receivers check the signature'
  return undefined
}

export const webhookSecretProblem = (secret: string): string | undefined =>
  typeof secret !== 'string' || secret.length < MIN_WEBHOOK_SECRET_LENGTH || secret.length > MAX_WEBHOOK_SECRET_LENGTH
    ? `a webhook secret has ${MIN_WEBHOOK_SECRET_LENGTH} to ${MAX_WEBHOOK_SECRET_LENGTH} characters`
    : undefined

export const checkWebhook = (w: { url: string; secret: string }): void => {
  const problem = webhookUrlProblem(w.url) ?? webhookSecretProblem(w.secret)
  if (problem !== undefined) throw invalid(problem)
}

export const checkDelivery = (d: NewDelivery): void => {
  text('a delivery event', d.event, 64)
  text('a delivery body', d.body, MAX_DELIVERY_BODY)
  if (!Number.isSafeInteger(d.nextAttemptAt)) throw invalid('a delivery needs the time of its first attempt')
}

export const checkOutcome = (o: AttemptOutcome): void => {
  if (o.statusCode !== null && (!Number.isSafeInteger(o.statusCode) || o.statusCode < 100 || o.statusCode > 999)) throw invalid('an HTTP status is 100 to 999')
  if (!Number.isFinite(o.durationMs) || o.durationMs < 0) throw invalid('an attempt duration is a number of milliseconds')
  if ((o.status === 'pending') !== (o.nextAttemptAt !== null)) throw invalid('a pending delivery needs its next attempt time, and only it')
}

export const unknownAlert = (tenant: string, id: string): StorageError =>
  new StorageError('not-found', `tenant ${JSON.stringify(tenant)} has no alert ${JSON.stringify(id)}`)

export const alertResolved = (id: string): StorageError => new StorageError('conflict', `alert ${id} is resolved already`)

export const alertAlreadyOpen = (tenant: string, key: string): StorageError =>
  new StorageError('conflict', `tenant ${JSON.stringify(tenant)} already has an open alert ${JSON.stringify(key)}`)

export const unknownWebhook = (tenant: string, id: string): StorageError =>
  new StorageError('not-found', `tenant ${JSON.stringify(tenant)} has no webhook ${JSON.stringify(id)}`)

export const unknownDelivery = (tenant: string, id: string): StorageError =>
  new StorageError('not-found', `tenant ${JSON.stringify(tenant)} has no webhook delivery ${JSON.stringify(id)}`)

export const deliveryFinished = (id: string): StorageError =>
  new StorageError('conflict', `webhook delivery ${id} is finished; it takes no more attempts`)

/** An alert page cursor that names no alert of the tenant. */
export const unknownCursor = (id: string): StorageError => invalid(`the cursor ${JSON.stringify(id)} names no alert of this tenant`)
