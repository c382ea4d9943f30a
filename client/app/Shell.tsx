/**
 * The signed-in frame, phone-first: the sync status always on top, the screen, and a bottom bar of
 * big buttons (Items, Scan, Alerts, Status, and Admin for admins).
 */
import type { ReactNode } from 'react'
import { useAlertsVersion, useRoute, useStatus, useStore } from './hooks.js'
import { DownloadProgress } from './parts/DownloadProgress.js'
import { ProblemBanner } from './parts/ProblemBanner.js'
import { SyncBar } from './parts/SyncBar.js'
import { UndoBar } from './parts/UndoBar.js'
import { Admin } from './screens/Admin.js'
import { Alerts } from './screens/Alerts.js'
import { ItemList } from './screens/ItemList.js'
import { ItemPage } from './screens/ItemPage.js'
import { Scan } from './screens/Scan.js'
import { SyncDetails } from './screens/SyncDetails.js'

function NavButton({ to, label, badge }: { to: string; label: string; badge?: number }) {
  const { path, navigate } = useRoute()
  const active = to === '/' ? path === '/' || path.startsWith('/items') : path.startsWith(to)
  return (
    <button type="button" className={active ? 'nav active' : 'nav'} aria-current={active ? 'page' : undefined} onClick={() => navigate(to)}>
      {label}
      {badge !== undefined && badge > 0 && (
        <span className="badge-count" data-testid={`nav-badge-${label.toLowerCase()}`}>
          {badge}
        </span>
      )}
    </button>
  )
}

export function Shell() {
  const store = useStore()
  const status = useStatus()
  useAlertsVersion()
  const { path } = useRoute()
  const alertCount = store.alerts?.activeCount() ?? 0

  let screen: ReactNode
  const item = /^\/items\/([^/]+)$/.exec(path)?.[1]
  if (item !== undefined) screen = <ItemPage id={decodeURIComponent(item)} />
  else if (path.startsWith('/scan')) screen = <Scan />
  else if (path.startsWith('/alerts')) screen = <Alerts />
  else if (path.startsWith('/status')) screen = <SyncDetails />
  else if (path.startsWith('/admin') && store.user.role === 'admin') screen = <Admin />
  else screen = <ItemList />

  return (
    <div className="shell" data-role={store.user.role}>
      <SyncBar />
      <ProblemBanner />
      {status.phase === 'downloading' ? <DownloadProgress /> : <main className="screen">{screen}</main>}
      <UndoBar />
      <nav className="bottom-nav" aria-label="Screens">
        <NavButton to="/" label="Items" />
        <NavButton to="/scan" label="Scan" />
        <NavButton to="/alerts" label="Alerts" badge={alertCount} />
        <NavButton to="/status" label="Status" badge={status.pending.count} />
        {store.user.role === 'admin' && <NavButton to="/admin" label="Admin" />}
      </nav>
    </div>
  )
}
