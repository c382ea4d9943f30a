/**
 * The service worker: precaches the app shell (every file the build wrote, by revision) so a
 * reload works with no network, and answers every navigation with the cached index.html (deep
 * links too). A new deploy is a new sw.js with a new precache list; it waits until the page says
 * "reload" (workbox-window, client/app/parts/UpdateBanner.tsx), so no open screen is swapped under
 * a person's thumb. The API and the relay are never cached: the app's data lives in IndexedDB.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import type { PrecacheEntry } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'

/** The bits of ServiceWorkerGlobalScope used here (the project's lib is DOM, not WebWorker). */
interface ServiceWorkerScope {
  /** Replaced at build time by workbox-build's injectManifest with the precache list. */
  readonly __WB_MANIFEST: Array<PrecacheEntry | string>
  skipWaiting(): Promise<void>
  addEventListener(type: 'message', listener: (event: MessageEvent<unknown>) => void): void
}
declare const self: ServiceWorkerScope

cleanupOutdatedCaches()
precacheAndRoute(self.__WB_MANIFEST)
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    // Server paths are never the app (server/client-app.ts keeps the same list).
    denylist: [/^\/api(\/|$)/, /^\/sync(\/|$)/, /^\/metrics(\/|$)/],
  }),
)

self.addEventListener('message', (event) => {
  const data = event.data as { type?: unknown } | null
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting()
})
