/** POST /api/auth/login and /api/auth/refresh. */
import { Hono } from 'hono'
import { authenticate } from '../auth/login.js'
import { AuthError } from '../auth/errors.js'
import { issueTokens, refresh } from '../auth/tokens.js'
import type { TokenTtl, Tokens } from '../auth/tokens.js'
import type { Storage, UserRecord } from '../storage/types.js'
import { apiError } from './errors.js'

const answer = (tokens: Tokens, user: UserRecord) => ({
  token: tokens.token,
  refreshToken: tokens.refreshToken,
  expiresAt: tokens.expiresAt,
  refreshExpiresAt: tokens.refreshExpiresAt,
  user: { id: user.id, name: user.name, username: user.username, role: user.role, tenant: user.tenant },
})

const readJson = async (req: Request): Promise<Record<string, unknown> | null> => {
  try {
    const body: unknown = await req.json()
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export const authRoutes = (storage: Storage, secret: string, ttl: TokenTtl) => {
  const app = new Hono()
  app.post('/login', async (c) => {
    const body = await readJson(c.req.raw)
    const { tenant, username, password } = body ?? {}
    if (typeof tenant !== 'string' || typeof username !== 'string' || typeof password !== 'string') {
      return apiError(c, 400, 'invalid-request', 'send JSON { "tenant", "username", "password" }')
    }
    try {
      const user = await authenticate(storage, tenant, username, password)
      return c.json(answer(await issueTokens(secret, user, Date.now(), ttl), user))
    } catch (err) {
      if (err instanceof AuthError) return apiError(c, 401, err.code, err.message)
      throw err
    }
  })
  app.post('/refresh', async (c) => {
    const body = await readJson(c.req.raw)
    if (typeof body?.refreshToken !== 'string') return apiError(c, 400, 'invalid-request', 'send JSON { "refreshToken" }')
    try {
      const { tokens, user } = await refresh(storage, secret, body.refreshToken, Date.now(), ttl)
      return c.json(answer(tokens, user))
    } catch (err) {
      if (err instanceof AuthError) return apiError(c, 401, err.code, err.message)
      throw err
    }
  })
  return app
}
