/**
 * Registers the service worker (workbox-window) and, when a new version has been deployed and is
 * waiting, offers "New version available — Reload". Reloading waits for the new worker to take
 * control, so the page and its cached files always match.
 */
import { useEffect, useState } from 'react'
import { Workbox } from 'workbox-window'

export function UpdateBanner() {
  const [waiting, setWaiting] = useState<Workbox | null>(null)

  useEffect(() => {
    if (!('serviceWorker' in navigator)) return
    const wb = new Workbox('/sw.js')
    wb.addEventListener('waiting', () => setWaiting(wb))
    wb.register().catch((err: unknown) => console.error('[sw] registration failed', err))
  }, [])

  if (!waiting) return null
  const reload = () => {
    waiting.addEventListener('controlling', () => location.reload())
    waiting.messageSkipWaiting()
  }
  return (
    <div className="update-banner" role="status">
      <span>New version available</span>
      <button type="button" className="primary" onClick={reload}>
        Reload
      </button>
    </div>
  )
}
