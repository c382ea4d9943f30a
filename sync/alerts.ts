/**
 * Alert conditions: a pure derivation from the merged document, shared by the server (which opens
 * and resolves alerts from it) and the client (which predicts them while offline).
 *
 * A condition is identified by its key (`low_stock:<item>`, `duplicate_sku:<sku>`, …): the server
 * keeps at most one open alert per key. Every key belongs to exactly one scope, the thing whose
 * change can make it appear or clear: an item (`item:<id>`) or a SKU (`sku:<sku>`). docs/SPEC.md
 * (Alerts) lists the kinds, their severities and the lifecycle.
 */
import * as Y from 'yjs'
import type { LedgerIndex } from './ledger-index.js'
import { ROOT } from './schema.js'

export const ALERT_KINDS = [
  'low_stock',
  'out_of_stock',
  'negative_stock',
  'negative_location',
  'duplicate_sku',
  'archived_with_stock',
] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

export const ALERT_SEVERITIES = ['info', 'warning', 'high', 'critical'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]

/** Severity of each kind: what a person should look at first. */
export const ALERT_SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = {
  negative_stock: 'critical',
  out_of_stock: 'high',
  low_stock: 'warning',
  negative_location: 'warning',
  duplicate_sku: 'warning',
  archived_with_stock: 'info',
}

/** What held when the condition was derived: for people and webhook receivers, not identity. */
export interface AlertDetail {
  readonly name?: string
  /** The item's total on-hand, or the on-hand at the location for `negative_location`. */
  readonly onHand?: number
  readonly reorderPoint?: number
  /** `duplicate_sku`: the items not archived that share the SKU, sorted. */
  readonly items?: readonly string[]
}

export interface AlertCondition {
  readonly key: string
  readonly kind: AlertKind
  readonly severity: AlertSeverity
  /** The item; for `duplicate_sku`, the first of the items sharing the SKU. */
  readonly item: string
  readonly location?: string
  readonly sku: string
  readonly detail: AlertDetail
}

export const itemScope = (item: string): string => `item:${item}`
export const skuScope = (sku: string): string => `sku:${sku}`

/** The scope a condition (or an alert opened from one) belongs to. */
export const scopeOf = (a: { readonly kind: string; readonly item: string; readonly sku: string }): string =>
  a.kind === 'duplicate_sku' ? skuScope(a.sku) : itemScope(a.item)

const condition = (kind: AlertKind, key: string, fields: Omit<AlertCondition, 'key' | 'kind' | 'severity'>): AlertCondition => ({
  key,
  kind,
  severity: ALERT_SEVERITY[kind],
  ...fields,
})

const itemsOf = (index: LedgerIndex): Y.Map<unknown> => index.doc.getMap(ROOT.items)

const fieldsOf = (index: LedgerIndex, item: string): Y.Map<unknown> | undefined => {
  const fields = itemsOf(index).get(item)
  return fields instanceof Y.Map ? fields : undefined
}

const text = (fields: Y.Map<unknown>, key: string): string => {
  const v = fields.get(key)
  return typeof v === 'string' ? v : ''
}

/**
 * The conditions of one item's scope: its stock status (low, out, negative), a negative on-hand at
 * a location while the total is not negative, and stock left on an archived item.
 *
 * An item that has never had stock anywhere (no movement, no baseline: a new catalogue entry)
 * raises no stock alert; otherwise every new item would open `out_of_stock`.
 */
export const itemConditions = (index: LedgerIndex, item: string): AlertCondition[] => {
  const fields = fieldsOf(index, item)
  if (!fields) return []
  const sku = text(fields, 'sku')
  const name = text(fields, 'name')
  const byLocation = index.byLocation(item)
  const onHand = index.onHand(item)
  if (fields.get('archived') === true) {
    const holding = [...byLocation.values()].some((q) => q !== 0)
    return holding ? [condition('archived_with_stock', `archived_with_stock:${item}`, { item, sku, detail: { name, onHand } })] : []
  }
  if (byLocation.size === 0) return []
  const out: AlertCondition[] = []
  const rp = fields.get('reorderPoint')
  const reorderPoint = typeof rp === 'number' ? rp : 0
  const status = index.status(item)
  const stockKind: AlertKind | null =
    status === 'negative' ? 'negative_stock' : status === 'out' ? 'out_of_stock' : status === 'low' ? 'low_stock' : null
  if (stockKind) out.push(condition(stockKind, `${stockKind}:${item}`, { item, sku, detail: { name, onHand, reorderPoint } }))
  // Below zero in total already says negative_stock; a negative place is news only when the total is not.
  if (onHand >= 0) {
    for (const [location, q] of byLocation) {
      if (q < 0) {
        out.push(condition('negative_location', `negative_location:${item}@${location}`, { item, location, sku, detail: { name, onHand: q } }))
      }
    }
  }
  return out
}

/** The condition of one SKU's scope: two or more items not archived share it. */
export const skuCondition = (index: LedgerIndex, sku: string): AlertCondition | null => {
  const items = index.itemsWithSku(sku).filter((id) => fieldsOf(index, id)?.get('archived') !== true).sort()
  const first = items[0]
  if (first === undefined || items.length < 2) return null
  return condition('duplicate_sku', `duplicate_sku:${sku}`, { item: first, sku, detail: { items } })
}

/** The current SKU of an item, or undefined. */
export const skuOfItem = (index: LedgerIndex, item: string): string | undefined => {
  const fields = fieldsOf(index, item)
  const sku = fields?.get('sku')
  return typeof sku === 'string' ? sku : undefined
}

/** Every scope of the document with its conditions (an empty list: nothing holds there). */
export const deriveAllConditions = (index: LedgerIndex): Map<string, AlertCondition[]> => {
  const scopes = new Map<string, AlertCondition[]>()
  const skus = new Set<string>()
  for (const item of itemsOf(index).keys()) {
    scopes.set(itemScope(item), itemConditions(index, item))
    const sku = skuOfItem(index, item)
    if (sku !== undefined) skus.add(sku)
  }
  for (const sku of skus) {
    const c = skuCondition(index, sku)
    scopes.set(skuScope(sku), c ? [c] : [])
  }
  return scopes
}

// ---- the document's mirror of open alerts (ROOT.alerts) ------------------------------------------

/**
 * An open alert as the server mirrors it in the document's `alerts` map, under its condition key.
 * Optional fields are absent, never null (docs/SCHEMA.md, Alerts).
 */
export interface MirroredAlert {
  readonly id: string
  readonly kind: AlertKind
  readonly severity: AlertSeverity
  readonly item: string
  readonly location?: string
  readonly sku: string
  readonly openedAt: number
  readonly acknowledged: boolean
  readonly acknowledgedAt?: number
  readonly acknowledgedBy?: string
  readonly detail: AlertDetail
}

const isKind = (v: unknown): v is AlertKind => typeof v === 'string' && (ALERT_KINDS as readonly string[]).includes(v)
const isSeverity = (v: unknown): v is AlertSeverity => typeof v === 'string' && (ALERT_SEVERITIES as readonly string[]).includes(v)

/** Reads one mirrored record; anything malformed is null (a client shows what it can). */
export const parseMirroredAlert = (value: unknown): MirroredAlert | null => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const r = value as Record<string, unknown>
  if (typeof r.id !== 'string' || !isKind(r.kind) || !isSeverity(r.severity)) return null
  if (typeof r.item !== 'string' || typeof r.sku !== 'string' || typeof r.openedAt !== 'number') return null
  if (typeof r.acknowledged !== 'boolean') return null
  const detail = typeof r.detail === 'object' && r.detail !== null && !Array.isArray(r.detail) ? (r.detail as AlertDetail) : {}
  return {
    id: r.id,
    kind: r.kind,
    severity: r.severity,
    item: r.item,
    ...(typeof r.location === 'string' ? { location: r.location } : {}),
    sku: r.sku,
    openedAt: r.openedAt,
    acknowledged: r.acknowledged,
    ...(typeof r.acknowledgedAt === 'number' ? { acknowledgedAt: r.acknowledgedAt } : {}),
    ...(typeof r.acknowledgedBy === 'string' ? { acknowledgedBy: r.acknowledgedBy } : {}),
    detail,
  }
}

/** The open alerts the server last wrote into the document, by condition key. */
export const readAlertMirror = (doc: Y.Doc): Map<string, MirroredAlert> => {
  const out = new Map<string, MirroredAlert>()
  for (const [key, value] of doc.getMap<unknown>(ROOT.alerts)) {
    const alert = parseMirroredAlert(value)
    if (alert) out.set(key, alert)
  }
  return out
}

// ---- the client's prediction -------------------------------------------------------------------

/**
 * An alert as a device sees it: `confirmed` (the server has it open and the local state agrees),
 * `unconfirmed` (the local state implies it, the server has not opened it yet: "low stock, not yet
 * confirmed"), or `clearing` (the server has it open, the local state no longer implies it).
 */
export type PredictedAlert =
  | { readonly state: 'confirmed'; readonly key: string; readonly condition: AlertCondition; readonly alert: MirroredAlert }
  | { readonly state: 'unconfirmed'; readonly key: string; readonly condition: AlertCondition }
  | { readonly state: 'clearing'; readonly key: string; readonly alert: MirroredAlert }

/** The same derivation the server runs, over the device's whole document, against the mirror. */
export const predictAlerts = (index: LedgerIndex): PredictedAlert[] => {
  const mirror = readAlertMirror(index.doc)
  const out: PredictedAlert[] = []
  const seen = new Set<string>()
  for (const conditions of deriveAllConditions(index).values()) {
    for (const c of conditions) {
      seen.add(c.key)
      const alert = mirror.get(c.key)
      out.push(alert ? { state: 'confirmed', key: c.key, condition: c, alert } : { state: 'unconfirmed', key: c.key, condition: c })
    }
  }
  for (const [key, alert] of mirror) if (!seen.has(key)) out.push({ state: 'clearing', key, alert })
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}
