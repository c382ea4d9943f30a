/**
 * Always on top: online / offline / connecting, "All changes saved" or "N changes waiting", when
 * the server last confirmed, what it refused, and how many people are online. Tapping it opens
 * the details (Status screen).
 */
import { useEffect, useState } from 'react'
import { people } from '../../store/presence.js'
import { ago } from '../format.js'
import { usePeers, useRoute, useStatus, useStore } from '../hooks.js'

const CONNECTION_LABEL = { online: 'Online', offline: 'Offline', connecting: 'Connecting…' } as const

/** Re-renders every `ms` so "2 min ago" stays true. */
export const useNow = (ms = 15_000): number => {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}

export function SyncBar() {
  const store = useStore()
  const status = useStatus()
  const peers = usePeers()
  const { navigate } = useRoute()
  const now = useNow()
  const waiting = status.pending.count
  const others = people(peers).filter((p) => p.userId !== store.userId).length
  return (
    <header className="sync-bar" data-connection={status.connection}>
      <button type="button" className="sync-main" onClick={() => navigate('/status')} aria-label="Sync status">
        <span className={`dot ${status.connection}`} aria-hidden="true" />
        <span data-testid="connection">{CONNECTION_LABEL[status.connection]}</span>
        <span className={waiting === 0 ? 'saved' : 'waiting'} data-testid="save-state">
          {waiting === 0 ? 'All changes saved' : `${waiting} ${waiting === 1 ? 'change' : 'changes'} waiting`}
        </span>
      </button>
      <div className="sync-side">
        {status.rejected.length > 0 && (
          <button type="button" className="chip danger" onClick={() => navigate('/status')} data-testid="refused-count">
            {status.rejected.length} refused
          </button>
        )}
        <span className="muted small" data-testid="last-sync">
          {status.lastSavedAt === null ? 'Never synced' : `Synced ${ago(status.lastSavedAt, now)}`}
        </span>
        {others > 0 && (
          <span className="chip" data-testid="online-count">
            {others} online
          </span>
        )}
      </div>
      {status.phase === 'loading' && <div className="loading-line" aria-label="Opening the inventory" />}
    </header>
  )
}
