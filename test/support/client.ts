/** Local stores (client/store) in Node: fake-indexeddb, `ws`, and an online switch the test holds. */
import WS from 'ws'
import { DeviceDb } from '../../client/store/databases.js'
import { LocalStore } from '../../client/store/local-store.js'
import type { LocalStoreOptions, OnlineSource } from '../../client/store/local-store.js'
import { signIn } from '../../client/store/session.js'
import type { Session } from '../../client/store/session.js'
import { PASSWORD } from './server.js'
import type { TestServer } from './server.js'

/** navigator.onLine and its events, switched by the test. */
export class ManualOnline implements OnlineSource {
  private readonly listeners = new Set<(online: boolean) => void>()
  constructor(private online = true) {}
  isOnline(): boolean {
    return this.online
  }
  set(online: boolean): void {
    this.online = online
    for (const l of this.listeners) l(online)
  }
  subscribe(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

export const signInAs = (t: TestServer, username: string, tenant = 'acme'): Promise<Session> =>
  signIn(t.server.url, { tenant, username, password: PASSWORD })

/** A started store: `device` names the simulated browser profile (its device database). */
export const openStore = async (
  t: TestServer,
  session: Session,
  options: { device?: string; online?: OnlineSource } & Partial<LocalStoreOptions> = {},
): Promise<LocalStore> => {
  const store = new LocalStore({
    serverUrl: t.server.url,
    session,
    deviceDb: new DeviceDb(`qm-device-${options.device ?? 'phone'}`),
    WebSocketPolyfill: WS as unknown as typeof WebSocket,
    maxBackoffMs: 200,
    retryMs: 500,
    ...options,
  })
  await store.start()
  return store
}
