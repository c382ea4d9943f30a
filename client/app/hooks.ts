/**
 * The React side's view of the store: one context holding the signed-in user's LocalStore (no
 * module-level state), and hooks that re-render on exactly what a screen shows.
 */
import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from 'react'
import type { DeviceDb } from '../store/databases.js'
import type { LocalStore, StoreStatus } from '../store/local-store.js'
import type { PeerState } from '../store/presence.js'

export const StoreContext = createContext<LocalStore | null>(null)
export const DeviceContext = createContext<DeviceDb | null>(null)

export const useStore = (): LocalStore => {
  const store = useContext(StoreContext)
  if (!store) throw new Error('useStore outside a signed-in screen')
  return store
}

export const useDevice = (): DeviceDb => {
  const db = useContext(DeviceContext)
  if (!db) throw new Error('useDevice outside the app')
  return db
}

export const useStatus = (): StoreStatus => {
  const store = useStore()
  return useSyncExternalStore(
    useCallback((l: () => void) => store.subscribe(l), [store]),
    () => store.status,
  )
}

/** Re-renders when the list's rows change (or the store's own state: last action, readiness). */
export const useListVersion = (): number => {
  const store = useStore()
  return useSyncExternalStore(
    useCallback((l: () => void) => store.list.subscribe(l), [store]),
    () => store.list.version,
  )
}

/** Re-renders when one item changes in the document (its stock, fields or movements). */
export const useItemVersion = (item: string): number => {
  const store = useStore()
  const ready = useStatus().phase === 'ready'
  const [version, setVersion] = useState(0)
  useEffect(() => {
    if (!ready) return
    return store.index.subscribe((items, changes) => {
      if (items.has(item) || changes.locations.size > 0) setVersion((v) => v + 1)
    })
  }, [store, item, ready])
  return version
}

export const useAlertsVersion = (): number => {
  const store = useStore()
  useStatus() // the alert model appears once the document is ready
  const [version, setVersion] = useState(0)
  const alerts = store.alerts
  useEffect(() => alerts?.subscribe(() => setVersion((v) => v + 1)), [alerts])
  return version + (alerts ? alerts.version : -1)
}

export const usePeers = (): PeerState[] => {
  const store = useStore()
  useStatus()
  const presence = store.presence
  const [peers, setPeers] = useState<PeerState[]>(() => presence?.peers() ?? [])
  useEffect(() => {
    if (!presence) return
    setPeers(presence.peers())
    return presence.subscribe(() => setPeers(presence.peers()))
  }, [presence])
  return peers
}

// ---- routing: the path is the screen ---------------------------------------------------------

export interface Route {
  readonly path: string
  navigate(path: string, options?: { replace?: boolean }): void
}

export const RouteContext = createContext<Route>({ path: '/', navigate: () => undefined })
export const useRoute = (): Route => useContext(RouteContext)

export const useHistoryRoute = (): Route => {
  const [path, setPath] = useState(() => location.pathname)
  useEffect(() => {
    const onPop = () => setPath(location.pathname)
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])
  const navigate = useCallback((next: string, options?: { replace?: boolean }) => {
    if (next === location.pathname) return
    if (options?.replace) history.replaceState(null, '', next)
    else history.pushState(null, '', next)
    setPath(next)
    scrollTo(0, 0)
  }, [])
  return { path, navigate }
}

// ---- device settings ---------------------------------------------------------------------------

export interface DeviceSettings {
  readonly sound: boolean
  readonly vibrate: boolean
  /** The location stock actions start with. */
  readonly location: string | null
}

const DEFAULT_SETTINGS: DeviceSettings = { sound: true, vibrate: true, location: null }

export const useDeviceSettings = (): [DeviceSettings, (patch: Partial<DeviceSettings>) => void] => {
  const device = useDevice()
  const [settings, setSettings] = useState<DeviceSettings>(DEFAULT_SETTINGS)
  useEffect(() => {
    let live = true
    device.settings
      .get('device')
      .then((s) => {
        if (live && s && typeof s.value === 'object' && s.value !== null) setSettings({ ...DEFAULT_SETTINGS, ...(s.value as Partial<DeviceSettings>) })
      })
      .catch((err: unknown) => console.error('[settings] could not read the device settings', err))
    return () => {
      live = false
    }
  }, [device])
  const update = useCallback(
    (patch: Partial<DeviceSettings>) => {
      setSettings((old) => {
        const next = { ...old, ...patch }
        device.settings.put({ key: 'device', value: next }).catch((err: unknown) => console.error('[settings] could not save', err))
        return next
      })
    },
    [device],
  )
  return [settings, update]
}

/** Names of the tenant's users for the history (kept in Dexie; refreshed when online). */
export const useUserNames = (): ReadonlyMap<string, string> => {
  const store = useStore()
  const online = useStatus().connection === 'online'
  const [names, setNames] = useState<ReadonlyMap<string, string>>(() => new Map([[store.userId, store.user.name]]))
  useEffect(() => {
    let live = true
    const apply = (users: unknown) => {
      if (!live || !Array.isArray(users)) return
      const map = new Map<string, string>([[store.userId, store.user.name]])
      for (const u of users as Array<{ id?: unknown; name?: unknown }>) if (typeof u.id === 'string' && typeof u.name === 'string') map.set(u.id, u.name)
      setNames(map)
    }
    store.db.meta
      .get('users')
      .then((e) => apply(e?.value))
      .catch((err: unknown) => console.error('[users] could not read the cached names', err))
    if (online) {
      store.api
        .users()
        .then(async ({ users }) => {
          apply(users)
          await store.db.setMeta('users', users)
        })
        .catch((err: unknown) => console.warn('[users] could not refresh the names', err))
    }
    return () => {
      live = false
    }
  }, [store, online])
  return names
}
