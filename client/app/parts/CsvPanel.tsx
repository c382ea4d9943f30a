/** CSV export (a download) and import (upload progress, then the summary or every bad row). */
import { useState } from 'react'
import { ImportRefused } from '../../store/api.js'
import type { ImportSummary } from '../../store/api.js'
import { StoreError } from '../../store/errors.js'
import { useStatus, useStore } from '../hooks.js'
import { ProgressBar } from './ProgressBar.js'

export function CsvPanel() {
  const store = useStore()
  const online = useStatus().connection === 'online'
  const [progress, setProgress] = useState<{ loaded: number; total: number | null } | null>(null)
  const [summary, setSummary] = useState<ImportSummary | null>(null)
  const [refused, setRefused] = useState<ImportRefused | null>(null)
  const [error, setError] = useState<string | null>(null)

  const exportCsv = () => {
    setError(null)
    store.api
      .exportCsv()
      .then((text) => {
        const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }))
        const a = document.createElement('a')
        a.href = url
        a.download = `${store.tenant}-inventory.csv`
        a.click()
        setTimeout(() => URL.revokeObjectURL(url), 10_000)
      })
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setError(err.message)
      })
  }

  const importFile = (file: File) => {
    setSummary(null)
    setRefused(null)
    setError(null)
    setProgress({ loaded: 0, total: file.size })
    file
      .text()
      .then((text) => store.api.importCsv(text, (loaded, total) => setProgress({ loaded, total })))
      .then(setSummary)
      .catch((err: unknown) => {
        if (err instanceof ImportRefused) setRefused(err)
        else if (err instanceof StoreError) setError(err.message)
        else throw err
      })
      .finally(() => setProgress(null))
  }

  return (
    <div className="stack">
      <h2>Export</h2>
      <button type="button" className="big" disabled={!online} onClick={exportCsv}>
        Download CSV
      </button>
      <h2>Import</h2>
      <p className="muted small">Columns: sku, name, unit, barcode, reorderPoint, reorderQty, location, quantity. A file with any bad row changes nothing.</p>
      <label className="big file">
        Choose a CSV file
        <input
          type="file"
          accept=".csv,text/csv"
          disabled={!online || progress !== null}
          onChange={(e) => {
            const file = e.target.files?.[0]
            if (file) importFile(file)
            e.target.value = ''
          }}
        />
      </label>
      {progress && (
        <div data-testid="import-progress">
          <ProgressBar value={progress.loaded} max={progress.loaded >= (progress.total ?? Infinity) ? null : progress.total} label="Import" />
          <p className="muted small">{progress.loaded >= (progress.total ?? Infinity) ? 'The server is importing…' : 'Uploading…'}</p>
        </div>
      )}
      {summary && (
        <p className="ok-text" role="status" data-testid="import-summary">
          Imported {summary.rows} rows: {summary.itemsCreated} new items, {summary.itemsUpdated} updated, {summary.locationsCreated} new
          locations, {summary.movements} counts recorded.
        </p>
      )}
      {refused && (
        <div className="error" role="alert">
          <p>Nothing was imported. Fix these rows and try again:</p>
          <ul>
            {refused.rows.slice(0, 50).map((r) => (
              <li key={r.row}>
                Row {r.row}: {r.errors.join('; ')}
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  )
}
