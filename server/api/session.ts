/** Bearer-token middleware for /api/tenants/:tenant/*: the tenant comes from the token. */
import type { MiddlewareHandler } from 'hono'
import { AuthError } from '../auth/errors.js'
import { verifyAccessToken } from '../auth/tokens.js'
import type { Storage } from '../storage/types.js'
import type { Session } from '../relay/types.js'
import { apiError } from './errors.js'
import type { Role } from '../../sync/origin.js'

export type ApiEnv = { Variables: { session: Session } }

export interface SessionOptions {
  /**
   * Paths that may carry the access token as `?token=` instead of the header: the browser's
   * EventSource cannot set headers (the alert stream).
   */
  readonly queryToken?: (path: string) => boolean
}

export const requireSession =
  (storage: Storage, secret: string, options: SessionOptions = {}): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    const token = match?.[1] ?? (options.queryToken?.(c.req.path) ? c.req.query('token') : undefined)
    if (!token) return apiError(c, 401, 'unauthorized', 'send an access token as "Authorization: Bearer <token>"')
    let claims
    try {
      claims = await verifyAccessToken(secret, token)
    } catch (err) {
      if (err instanceof AuthError) return apiError(c, 401, err.code === 'expired' ? 'token-expired' : 'unauthorized', err.message)
      throw err
    }
    const tenant = c.req.param('tenant')
    if (tenant !== undefined && tenant !== claims.tenant) {
      return apiError(c, 403, 'forbidden', 'the token is for another tenant')
    }
    const user = await storage.getUser(claims.tenant, claims.sub)
    if (!user) return apiError(c, 403, 'forbidden', 'the user no longer exists')
    c.set('session', { tenant: claims.tenant, userId: user.id, username: user.username, name: user.name, role: user.role, expiresAt: claims.exp * 1000 })
    await next()
  }

export const requireRole =
  (...roles: Role[]): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    const role = c.get('session').role
    if (!roles.includes(role)) return apiError(c, 403, 'forbidden', `this needs the role ${roles.join(' or ')}; you are ${role}`)
    await next()
  }
