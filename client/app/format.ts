/** Words and numbers as people read them on a small screen. */
import type { MovementKind } from '../../sync/schema.js'
import type { StockStatus } from '../../sync/status.js'

export const STATUS_LABEL: Readonly<Record<StockStatus, string>> = { ok: 'OK', low: 'Low', out: 'Out', negative: 'Oversold' }

export const KIND_LABEL: Readonly<Record<MovementKind, string>> = {
  receive: 'Received',
  pick: 'Picked',
  adjust: 'Adjusted',
  count: 'Counted',
  'transfer-out': 'Transferred out',
  'transfer-in': 'Transferred in',
  restore: 'Restored',
  undo: 'Undone',
}

export const signed = (n: number): string => (n > 0 ? `+${n}` : String(n))

export const ago = (at: number, now: number): string => {
  const s = Math.round((now - at) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} h ago`
  return new Date(at).toLocaleDateString()
}

export const time = (at: number): string => new Date(at).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`
