/**
 * Signing in and keeping the access token fresh. A session is what /api/auth/login answers, kept in
 * the device database so the app opens offline after one online sign-in (docs/PROTOCOL.md).
 */
import type { Role } from '../../sync/origin.js'
import { StoreError } from './errors.js'

export interface SessionUser {
  readonly id: string
  readonly name: string
  readonly username: string
  readonly role: Role
  readonly tenant: string
}

export interface Session {
  readonly token: string
  readonly refreshToken: string
  /** ms since 1970 */
  readonly expiresAt: number
  readonly refreshExpiresAt: number
  readonly user: SessionUser
}

const ROLES: readonly string[] = ['admin', 'editor', 'viewer']

const parseSession = (body: unknown): Session => {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const u = (typeof b.user === 'object' && b.user !== null ? b.user : {}) as Record<string, unknown>
  if (
    typeof b.token !== 'string' || typeof b.refreshToken !== 'string' ||
    typeof b.expiresAt !== 'number' || typeof b.refreshExpiresAt !== 'number' ||
    typeof u.id !== 'string' || typeof u.name !== 'string' || typeof u.username !== 'string' ||
    typeof u.tenant !== 'string' || typeof u.role !== 'string' || !ROLES.includes(u.role)
  ) {
    throw new StoreError('bad-response', 'the server answered the sign-in with something unexpected')
  }
  return {
    token: b.token,
    refreshToken: b.refreshToken,
    expiresAt: b.expiresAt,
    refreshExpiresAt: b.refreshExpiresAt,
    user: { id: u.id, name: u.name, username: u.username, tenant: u.tenant, role: u.role as Role },
  }
}

/** Reads an API error body `{ error: { code, message } }`, or makes one up from the status. */
export const readApiError = async (res: Response): Promise<StoreError> => {
  let code: string | null = null
  let message = `the server answered ${res.status}`
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string') message = body.error.message
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const kind = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'http'
  return new StoreError(kind, message, code, res.status)
}

/** fetch that turns "no network" into StoreError('offline'). */
export const request = async (fetchFn: typeof fetch, url: string, init: RequestInit): Promise<Response> => {
  try {
    return await fetchFn(url, init)
  } catch (err) {
    throw new StoreError('offline', `the server cannot be reached (${err instanceof Error ? err.message : String(err)})`)
  }
}

const postJson = async (fetchFn: typeof fetch, url: string, body: unknown): Promise<Session> => {
  const res = await request(fetchFn, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw await readApiError(res)
  return parseSession(await res.json())
}

export const signIn = (
  serverUrl: string,
  credentials: { readonly tenant: string; readonly username: string; readonly password: string },
  fetchFn: typeof fetch = fetch,
): Promise<Session> => postJson(fetchFn, `${serverUrl}/api/auth/login`, credentials)

export const refreshSession = (serverUrl: string, session: Session, fetchFn: typeof fetch = fetch): Promise<Session> =>
  postJson(fetchFn, `${serverUrl}/api/auth/refresh`, { refreshToken: session.refreshToken })

/** Refresh this long before the access token expires. @default 60 s (tokens last 15 minutes) */
export const REFRESH_MARGIN_MS = 60_000

/** When to refresh: a margin before expiry, but not in the past and not sooner than 1 s. */
export const refreshDelay = (session: Session, now: number): number =>
  Math.max(1000, session.expiresAt - now - Math.min(REFRESH_MARGIN_MS, (session.expiresAt - now) / 4))

/** The WebSocket URL of the relay for an http(s) server URL. */
export const relayUrl = (serverUrl: string): string => serverUrl.replace(/^http/, 'ws') + '/sync'
