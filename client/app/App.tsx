/**
 * The app's frame: who is signed in on this device (the session in Dexie, so it opens offline),
 * then one LocalStore for that tenant and user, held in a context while they are signed in.
 */
import { liveQuery } from 'dexie'
import { useEffect, useState } from 'react'
import type { ReactNode } from 'react'
import { DeviceDb } from '../store/databases.js'
import { LocalStore } from '../store/local-store.js'
import type { Session } from '../store/session.js'
import { DeviceContext, RouteContext, StoreContext, useHistoryRoute } from './hooks.js'
import { UpdateBanner } from './parts/UpdateBanner.js'
import { Shell } from './Shell.js'
import { SignIn } from './screens/SignIn.js'

export function App({ serverUrl }: { readonly serverUrl: string }) {
  const [device] = useState(() => new DeviceDb())
  // undefined: not read yet; null: nobody signed in on this device.
  const [session, setSession] = useState<Session | null | undefined>(undefined)
  const route = useHistoryRoute()

  useEffect(() => {
    // Every tab follows the device's session: a sign-out in one signs out all.
    const sub = liveQuery(() => device.sessions.get('current')).subscribe({
      next: (s) => setSession(s?.session ?? null),
      error: (err: unknown) => {
        console.error('[app] could not read the session', err)
        setSession(null)
      },
    })
    return () => sub.unsubscribe()
  }, [device])

  let body: ReactNode
  if (session === undefined) body = <p className="splash">Opening…</p>
  else if (session === null) body = <SignIn serverUrl={serverUrl} device={device} />
  else {
    body = (
      <StoreFor key={`${session.user.tenant}:${session.user.id}`} serverUrl={serverUrl} session={session} device={device}>
        <Shell />
      </StoreFor>
    )
  }
  return (
    <DeviceContext.Provider value={device}>
      <RouteContext.Provider value={route}>
        <UpdateBanner />
        {body}
      </RouteContext.Provider>
    </DeviceContext.Provider>
  )
}

/** One store per signed-in tenant and user, opened once and closed on sign-out. */
function StoreFor(props: { serverUrl: string; session: Session; device: DeviceDb; children: ReactNode }) {
  const [store, setStore] = useState<LocalStore | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const { serverUrl, device } = props
  // The store refreshes its own session; a newer one from another tab must not reopen it.
  const [session] = useState(props.session)

  useEffect(() => {
    const s = new LocalStore({ serverUrl, session, deviceDb: device })
    setStore(s)
    s.start()
      .then(() => performance.mark('qm:doc-ready'))
      .catch((err: unknown) => {
        console.error('[app] the local store failed to open', err)
        setFailure(err instanceof Error ? err.message : String(err))
      })
    return () => {
      s.close().catch((err: unknown) => console.error('[app] closing the store failed', err))
    }
  }, [serverUrl, session, device])

  if (failure) return <p className="splash error">This device could not open its copy of the inventory: {failure}</p>
  if (!store) return <p className="splash">Opening…</p>
  return <StoreContext.Provider value={store}>{props.children}</StoreContext.Provider>
}
