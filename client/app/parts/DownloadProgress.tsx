/** A new device's first download of a large tenant: how much has arrived. */
import { bytes } from '../format.js'
import { useStatus } from '../hooks.js'
import { ProgressBar } from './ProgressBar.js'

export function DownloadProgress() {
  const { download } = useStatus()
  const loaded = download?.loaded ?? 0
  const total = download?.total ?? null
  return (
    <main className="screen centered" data-testid="download-progress">
      <h2>Downloading the inventory</h2>
      <p className="muted">The first time only: after this, the app opens with no network.</p>
      <ProgressBar value={loaded} max={total} label="Downloaded" />
      <p>
        {bytes(loaded)}
        {total !== null && ` of ${bytes(total)}`}
      </p>
    </main>
  )
}
