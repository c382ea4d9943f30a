/**
 * Alerts: the server's open alerts (mirrored in the document, so they show offline too), what this
 * device's own changes imply but the server has not confirmed yet, and alerts about to clear.
 * Editors and admins acknowledge when online. The server's recent history is kept for offline.
 */
import { useEffect, useState } from 'react'
import type { PredictedAlert } from '../../../sync/alerts.js'
import type { AlertRecordJson } from '../../store/api.js'
import { StoreError } from '../../store/errors.js'
import { ago } from '../format.js'
import { useAlertsVersion, useRoute, useStatus, useStore } from '../hooks.js'

const KIND_TEXT: Readonly<Record<string, string>> = {
  low_stock: 'Low stock',
  out_of_stock: 'Out of stock',
  negative_stock: 'Oversold (negative stock)',
  negative_location: 'Negative at a location',
  duplicate_sku: 'Duplicate SKU',
  archived_with_stock: 'Archived with stock',
}

const STATE_TEXT = { confirmed: '', unconfirmed: 'not yet confirmed by the server', clearing: 'clearing' } as const

function AlertCard({ alert, onAck }: { alert: PredictedAlert; onAck: (id: string) => void }) {
  const store = useStore()
  const { navigate } = useRoute()
  const online = useStatus().connection === 'online'
  const c = alert.state === 'clearing' ? alert.alert : alert.condition
  const server = alert.state === 'unconfirmed' ? null : alert.alert
  const name = store.list.row(c.item)?.name ?? c.detail.name ?? ''
  return (
    <li className={`alert-card ${c.severity} ${alert.state}`} data-testid="alert" data-kind={c.kind} data-state={alert.state}>
      <button type="button" className="alert-main" onClick={() => navigate(`/items/${encodeURIComponent(c.item)}`)}>
        <strong>{KIND_TEXT[c.kind] ?? c.kind}</strong>
        <span>
          {c.sku} {name && `· ${name}`}
          {c.detail.onHand !== undefined && ` · on hand ${c.detail.onHand}`}
        </span>
        {STATE_TEXT[alert.state] && <span className="muted small">{STATE_TEXT[alert.state]}</span>}
        {server?.acknowledged && <span className="muted small">acknowledged</span>}
      </button>
      {server && !server.acknowledged && !store.readOnly && (
        <button type="button" className="big" disabled={!online} onClick={() => onAck(server.id)}>
          Acknowledge
        </button>
      )}
    </li>
  )
}

export function Alerts() {
  const store = useStore()
  useAlertsVersion()
  const online = useStatus().connection === 'online'
  const [history, setHistory] = useState<AlertRecordJson[]>([])
  const [message, setMessage] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    store.alertHistory
      .cached()
      .then((h) => live && setHistory(h))
      .catch((err: unknown) => console.error('[alerts] could not read the cached history', err))
    if (online) {
      store.alertHistory
        .refresh()
        .then((h) => live && setHistory(h))
        .catch((err: unknown) => console.warn('[alerts] could not refresh the history', err))
    }
    return () => {
      live = false
    }
  }, [store, online])

  const acknowledge = (id: string) => {
    setMessage(null)
    store.alertHistory
      .acknowledge(id)
      .then(() => setMessage('Acknowledged.'))
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setMessage(err.message)
      })
  }

  if (!store.alerts) return <p className="muted centered">Opening the inventory…</p>
  const list = store.alerts.list()
  const now = Date.now()
  return (
    <section>
      <h1>
        Alerts <span className="badge-count" data-testid="alert-count">{store.alerts.activeCount()}</span>
      </h1>
      {message && <p role="status">{message}</p>}
      {list.length === 0 ? <p className="muted">Nothing needs attention.</p> : (
        <ul className="alerts">
          {list.map((a) => (
            <AlertCard key={a.key} alert={a} onAck={acknowledge} />
          ))}
        </ul>
      )}
      <h2>Recent history {online ? '' : '(saved on this device)'}</h2>
      <ul className="alert-history">
        {history.slice(0, 30).map((a) => (
          <li key={a.id} className="muted small">
            {KIND_TEXT[a.kind] ?? a.kind} · {a.sku} · {a.status === 'open' ? 'open' : 'resolved'} · opened {ago(a.openedAt, now)}
          </li>
        ))}
      </ul>
    </section>
  )
}
