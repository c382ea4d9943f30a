/**
 * Snapshots: the list, taking one now, a preview of one (what it holds and what a restore would
 * change now), and restore behind a confirmation that says exactly that. A restore is a forward
 * change on the server: every device sees it at once, and work made offline meanwhile stays.
 */
import { useCallback, useEffect, useState } from 'react'
import type { SnapshotContents, SnapshotDiff, SnapshotMeta } from '../../store/api.js'
import { StoreError } from '../../store/errors.js'
import { bytes, signed, time } from '../format.js'
import { useStatus, useStore } from '../hooks.js'

const TRIGGER = { schedule: 'scheduled', manual: 'manual', 'pre-restore': 'before a restore' } as const

/** The confirmation's sentence: what will change, in counts. */
export const restoreSummary = (d: SnapshotDiff): string[] => {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`
  const lines: string[] = []
  if (d.quantities.length > 0) {
    lines.push(`${n(d.quantities.length, 'quantity changes', 'quantities change')} (${signed(d.unitsDelta)} units in total)`)
  }
  if (d.fieldsChanged.length > 0) lines.push(`${n(d.fieldsChanged.length, 'field', 'fields')} of items or locations go back`)
  if (d.itemsAdded.length > 0) lines.push(`${n(d.itemsAdded.length, 'item', 'items')} created since will be archived`)
  if (d.itemsRemoved.length > 0) lines.push(`${n(d.itemsRemoved.length, 'archived item comes', 'archived items come')} back`)
  if (d.locationsAdded.length > 0) lines.push(`${n(d.locationsAdded.length, 'location', 'locations')} created since will be archived`)
  if (d.locationsRemoved.length > 0) lines.push(`${n(d.locationsRemoved.length, 'archived location comes', 'archived locations come')} back`)
  return lines
}

function SnapshotView({ meta, onRestored }: { meta: SnapshotMeta; onRestored: (text: string) => void }) {
  const store = useStore()
  const online = useStatus().connection === 'online'
  const [contents, setContents] = useState<SnapshotContents | null>(null)
  const [diff, setDiff] = useState<SnapshotDiff | null>(null)
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    setContents(null)
    setDiff(null)
    setConfirming(false)
    const fail = (err: unknown) => {
      if (!(err instanceof StoreError)) throw err
      setError(err.message)
    }
    store.api.snapshot(meta.id).then(setContents).catch(fail)
    store.api.diff(meta.id).then(setDiff).catch(fail)
  }, [store, meta.id])

  const restore = () => {
    setBusy(true)
    store.api
      .restore(meta.id)
      .then((r) => {
        setConfirming(false)
        onRestored(`Restored the snapshot of ${time(meta.createdAt)}: ${r.movementsWritten} restore movements written. Every device has it now.`)
      })
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setError(err.message)
      })
      .finally(() => setBusy(false))
  }

  const summary = diff ? restoreSummary(diff) : []
  return (
    <div className="panel" data-testid="snapshot-view">
      <h3>
        Snapshot of {time(meta.createdAt)} ({TRIGGER[meta.trigger]})
      </h3>
      {meta.reason && <p>“{meta.reason}”</p>}
      {contents && (
        <p className="muted small">
          {contents.items.length} items, {contents.locations.length} locations, {meta.totalUnits} units · {bytes(meta.byteSize)}
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {diff === null ? (
        <p className="muted">Comparing with now…</p>
      ) : summary.length === 0 ? (
        <p>The inventory is the same as this snapshot: a restore would change nothing.</p>
      ) : (
        <>
          <h4>What a restore would change now</h4>
          <ul data-testid="diff">
            {summary.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
          <table className="table small">
            <tbody>
              {diff.quantities.slice(0, 20).map((q) => (
                <tr key={`${q.item}@${q.location}`}>
                  <td>{q.sku}</td>
                  <td>{q.locationName}</td>
                  <td>
                    {q.now} → {q.snapshot}
                  </td>
                </tr>
              ))}
              {diff.fieldsChanged.slice(0, 20).map((f) => (
                <tr key={`${f.id}.${f.field}`}>
                  <td>{f.label}</td>
                  <td>{f.field}</td>
                  <td>
                    {String(f.now)} → {String(f.snapshot)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!confirming ? (
            <button type="button" className="big danger" disabled={!online} onClick={() => setConfirming(true)}>
              Restore this snapshot…
            </button>
          ) : (
            <div className="confirm" role="alertdialog" aria-label="Confirm restore" ref={(el) => el?.scrollIntoView({ block: 'center' })}>
              <p>
                <strong>Restore the inventory to {time(meta.createdAt)}?</strong>
              </p>
              <ul>
                {summary.map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
              <p className="muted small">
                A safety snapshot is taken first, so this can be undone by restoring it. Movements made offline meanwhile still apply on
                top.
              </p>
              <div className="row">
                <button type="button" className="big" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
                <button type="button" className="big danger" disabled={busy} onClick={restore}>
                  {busy ? 'Restoring…' : 'Yes, restore'}
                </button>
              </div>
            </div>
          )}
        </>
      )}
    </div>
  )
}

export function SnapshotsPanel() {
  const store = useStore()
  const online = useStatus().connection === 'online'
  const [list, setList] = useState<SnapshotMeta[] | null>(null)
  const [selected, setSelected] = useState<SnapshotMeta | null>(null)
  const [reason, setReason] = useState('')
  const [message, setMessage] = useState<string | null>(null)

  const reload = useCallback(() => {
    store.api
      .snapshots()
      .then(({ snapshots }) => setList(snapshots))
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setMessage(err.message)
      })
  }, [store])
  useEffect(() => {
    if (online) reload()
  }, [online, reload])

  const take = () => {
    store.api
      .createSnapshot(reason.trim())
      .then(() => {
        setReason('')
        setMessage('Snapshot taken.')
        reload()
      })
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setMessage(err.message)
      })
  }

  return (
    <div className="stack">
      <h2>Snapshots</h2>
      <div className="row">
        <input aria-label="Snapshot reason" placeholder="Reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="button" className="big" disabled={!online} onClick={take}>
          Take a snapshot now
        </button>
      </div>
      {message && <p role="status">{message}</p>}
      {list === null ? (
        <p className="muted">{online ? 'Loading…' : 'Shown when online.'}</p>
      ) : (
        <ul className="snapshots" data-testid="snapshots">
          {list.map((s) => (
            <li key={s.id}>
              <button type="button" className={selected?.id === s.id ? 'big active' : 'big'} onClick={() => setSelected(s)}>
                {time(s.createdAt)} · {TRIGGER[s.trigger]} · {s.itemCount} items, {s.totalUnits} units{s.reason ? ` · ${s.reason}` : ''}
              </button>
            </li>
          ))}
        </ul>
      )}
      {selected && (
        <SnapshotView
          meta={selected}
          onRestored={(text) => {
            setMessage(text)
            setSelected(null)
            reload()
          }}
        />
      )}
    </div>
  )
}
