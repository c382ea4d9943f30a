/** Relay hooks backed by a Storage and the token secret: how the server wires the relay up. */
import { AuthError } from '../auth/errors.js'
import { verifyAccessToken } from '../auth/tokens.js'
import type { Storage } from '../storage/types.js'
import { ConnectionRefused } from './types.js'
import type { ChangeEvent, RelayHooks, Session } from './types.js'

export interface StorageHooksOptions {
  readonly storage: Storage
  readonly secret: string
  readonly changed?: (event: ChangeEvent) => void
}

export const storageHooks = ({ storage, secret, changed }: StorageHooksOptions): RelayHooks => ({
  async authenticate(tenant: string, token: string | null): Promise<Session> {
    if (!token) throw new ConnectionRefused('unauthorized', 'no token')
    let claims
    try {
      claims = await verifyAccessToken(secret, token)
    } catch (err) {
      if (err instanceof AuthError && err.code === 'expired') throw new ConnectionRefused('tokenExpired', 'refresh the token')
      if (err instanceof AuthError) throw new ConnectionRefused('unauthorized', err.code)
      throw err
    }
    if (claims.tenant !== tenant) throw new ConnectionRefused('forbidden', 'the token is for another tenant')
    // The role comes from the store, not the token: a demotion takes effect on the next connection.
    const user = await storage.getUser(tenant, claims.sub)
    if (!user) throw new ConnectionRefused('forbidden', 'the user no longer exists')
    return { tenant, userId: user.id, username: user.username, name: user.name, role: user.role, expiresAt: claims.exp * 1000 }
  },
  load: (tenant) => storage.loadDocument(tenant),
  store: (tenant, update) => storage.appendUpdate(tenant, update),
  compact: (tenant, state, throughSeq) => storage.compactDocument(tenant, state, throughSeq),
  claimClientId: (tenant, clientId, userId) => storage.claimClientId(tenant, clientId, userId),
  ...(changed ? { changed } : {}),
})
