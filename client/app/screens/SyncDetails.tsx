/**
 * What this device has and has not got to the server: the connection, the changes still waiting
 * (oldest first), what the server refused with its reasons, who is online, and signing out.
 */
import { useEffect, useState } from 'react'
import type { PendingChange } from '../../store/databases.js'
import { ago, time } from '../format.js'
import { useDevice, usePeers, useStatus, useStore } from '../hooks.js'
import { useNow } from '../parts/SyncBar.js'

export function SyncDetails() {
  const store = useStore()
  const device = useDevice()
  const status = useStatus()
  const peers = usePeers()
  const now = useNow()
  const [waiting, setWaiting] = useState<PendingChange[]>([])

  useEffect(() => {
    let live = true
    store
      .waitingChanges()
      .then((w) => live && setWaiting(w))
      .catch((err: unknown) => console.error('[status] could not list waiting changes', err))
    return () => {
      live = false
    }
  }, [store, status.pending])

  const signOut = () => {
    const count = status.pending.count
    const ok =
      count === 0 ||
      confirm(`${count} changes have not reached the server yet. They stay on this device and are sent when you sign in again. Sign out?`)
    if (ok) device.sessions.delete('current').catch((err: unknown) => console.error('[status] sign-out failed', err))
  }

  return (
    <section className="sync-details">
      <h1>Sync</h1>
      <dl className="fields">
        <dt>Connection</dt>
        <dd data-testid="detail-connection">{status.connection}</dd>
        <dt>Signed in as</dt>
        <dd>
          {store.user.name} ({store.user.role}) · {store.tenant}
        </dd>
        <dt>Last confirmed by the server</dt>
        <dd>{status.lastSavedAt === null ? 'never' : `${time(status.lastSavedAt)} (${ago(status.lastSavedAt, now)})`}</dd>
        <dt>Opened in</dt>
        <dd>{store.loadMs === null ? '…' : `${store.loadMs} ms`}</dd>
      </dl>

      <h2>Waiting for the server ({status.pending.count})</h2>
      {waiting.length === 0 ? (
        <p className="saved">All changes saved.</p>
      ) : (
        <ol className="waiting-list">
          {waiting.slice(0, 200).map((w) => (
            <li key={w.seq}>
              {w.label} <span className="muted small">{ago(w.at, now)}</span>
            </li>
          ))}
        </ol>
      )}

      <h2>Refused by the server ({status.rejected.length})</h2>
      {status.rejected.length === 0 ? (
        <p className="muted">Nothing refused.</p>
      ) : (
        <>
          <ul className="refused" data-testid="refused-list">
            {status.rejected.map((r) => (
              <li key={r.seq}>
                <strong>{r.code}</strong> {r.message} <span className="muted small">{r.path}</span>
              </li>
            ))}
          </ul>
          <button type="button" className="big" onClick={() => void store.dismissRejected()}>
            Dismiss
          </button>
        </>
      )}

      <h2>Online now</h2>
      <ul data-testid="online-list">
        <li>{store.user.name} (you, this device)</li>
        {peers.map((p) => (
          <li key={p.clientId}>
            {p.userId === store.userId ? `${p.name} (you, another tab or device)` : p.name}
            {p.item && <span className="muted small"> · on {store.list.row(p.item)?.sku ?? p.item}</span>}
          </li>
        ))}
      </ul>

      <button type="button" className="big danger" onClick={signOut}>
        Sign out
      </button>
    </section>
  )
}
