/** Admin (admins only): users, snapshots with preview, diff and restore, CSV import and export. */
import { useState } from 'react'
import { CsvPanel } from '../parts/CsvPanel.js'
import { SnapshotsPanel } from '../parts/SnapshotsPanel.js'
import { UsersPanel } from '../parts/UsersPanel.js'
import { useStatus } from '../hooks.js'

type Tab = 'snapshots' | 'csv' | 'users'

export function Admin() {
  const [tab, setTab] = useState<Tab>('snapshots')
  const online = useStatus().connection === 'online'
  return (
    <section className="admin">
      <div className="segmented" role="tablist">
        {(['snapshots', 'csv', 'users'] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
            {t === 'csv' ? 'CSV' : t[0]?.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      {!online && <p className="problem">Admin work needs the server: it is not reachable right now.</p>}
      {tab === 'snapshots' && <SnapshotsPanel />}
      {tab === 'csv' && <CsvPanel />}
      {tab === 'users' && <UsersPanel />}
    </section>
  )
}
