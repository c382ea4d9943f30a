/**
 * Access and refresh tokens: HS256 JWTs signed with the server's auth secret (hono/jwt).
 *
 * The access token (15 minutes) authenticates HTTP calls and the WebSocket; nothing is looked up to
 * accept it, so a role change or removal takes effect at the latest when it expires. The refresh
 * token (30 days) only buys new tokens, and `refresh` re-reads the user from storage each time: a
 * removed user, or a user whose password changed since, gets 'revoked'.
 */
import { createHash } from 'node:crypto'
import { sign, verify } from 'hono/jwt'
import { isRole } from '../storage/validate.js'
import type { DirectoryStore, UserRecord } from '../storage/types.js'
import type { Role } from '../../sync/origin.js'
import { AuthError } from './errors.js'

export type TokenType = 'access' | 'refresh'

export interface TokenClaims {
  /** User id. */
  readonly sub: string
  readonly tenant: string
  readonly role: Role
  /** Display name, for presence and the UI. */
  readonly name: string
  readonly username: string
  readonly typ: TokenType
  /** Issued at, seconds since the epoch. */
  readonly iat: number
  /** Expires at, seconds since the epoch. */
  readonly exp: number
}

export interface AccessClaims extends TokenClaims {
  readonly typ: 'access'
}

export interface RefreshClaims extends TokenClaims {
  readonly typ: 'refresh'
  /** Fingerprint of the password hash at issue time: a password change revokes the token. */
  readonly pwv: string
}

export interface TokenTtl {
  /** @default 900 (15 minutes) */
  readonly accessSeconds: number
  /** @default 2592000 (30 days): a device may stay offline for weeks and still resume its session. */
  readonly refreshSeconds: number
}

export const DEFAULT_TOKEN_TTL: TokenTtl = { accessSeconds: 15 * 60, refreshSeconds: 30 * 24 * 60 * 60 }

export interface Tokens {
  /** The access token. */
  readonly token: string
  readonly refreshToken: string
  /** When the access token expires, milliseconds since the epoch (refresh before this). */
  readonly expiresAt: number
  /** When the refresh token expires, milliseconds since the epoch. */
  readonly refreshExpiresAt: number
}

/** What a token is issued from: a stored user. */
export type TokenSubject = Pick<UserRecord, 'id' | 'tenant' | 'role' | 'name' | 'username' | 'passwordHash'>

const ALGORITHM = 'HS256'

/** A short one-way fingerprint of the stored hash; it reveals nothing the hash does not. */
const passwordVersion = (passwordHash: string): string =>
  createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16)

export const issueTokens = async (
  secret: string,
  user: TokenSubject,
  now: number = Date.now(),
  ttl: TokenTtl = DEFAULT_TOKEN_TTL,
): Promise<Tokens> => {
  const iat = Math.floor(now / 1000)
  const common = { sub: user.id, tenant: user.tenant, role: user.role, name: user.name, username: user.username, iat }
  const access: AccessClaims = { ...common, typ: 'access', exp: iat + ttl.accessSeconds }
  const refresh: RefreshClaims = { ...common, typ: 'refresh', exp: iat + ttl.refreshSeconds, pwv: passwordVersion(user.passwordHash) }
  return {
    token: await sign({ ...access }, secret, ALGORITHM),
    refreshToken: await sign({ ...refresh }, secret, ALGORITHM),
    expiresAt: access.exp * 1000,
    refreshExpiresAt: refresh.exp * 1000,
  }
}

const isString = (value: unknown): value is string => typeof value === 'string' && value !== ''
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value)

/** Checks signature, algorithm, claims, type and expiry, in that order. */
const verifyToken = async (secret: string, token: string, expected: TokenType, now: number): Promise<TokenClaims & { pwv?: unknown }> => {
  if (typeof token !== 'string' || token === '') throw new AuthError('invalid', 'no token')
  let payload: Record<string, unknown>
  try {
    // Expiry is checked below against `now`, and only once the signature is known to be ours.
    payload = await verify(token, secret, { alg: ALGORITHM, exp: false, nbf: false, iat: false })
  } catch (error) {
    // hono/jwt names every refusal Jwt…; anything else is a real failure and is not ours to hide.
    if (error instanceof Error && error.name.startsWith('Jwt')) {
      throw new AuthError('invalid', `not a valid token (${error.name})`, { cause: error })
    }
    throw error
  }
  const { sub, tenant, role, name, username, typ, iat, exp } = payload
  if (!isString(sub) || !isString(tenant) || typeof role !== 'string' || !isRole(role) || typeof name !== 'string' || !isString(username) || !isTime(iat) || !isTime(exp)) {
    throw new AuthError('invalid', 'the token lacks required claims')
  }
  if (typ !== expected) {
    throw new AuthError('wrong-type', `expected an ${expected} token, got ${typ === 'access' || typ === 'refresh' ? `a ${typ}` : 'an untyped'} token`)
  }
  if (exp <= Math.floor(now / 1000)) throw new AuthError('expired', `the ${expected} token has expired`)
  return { sub, tenant, role, name, username, typ: expected, iat, exp, pwv: payload.pwv }
}

export const verifyAccessToken = async (secret: string, token: string, now: number = Date.now()): Promise<AccessClaims> => {
  const { pwv: _ignored, ...claims } = await verifyToken(secret, token, 'access', now)
  return { ...claims, typ: 'access' }
}

export const verifyRefreshToken = async (secret: string, token: string, now: number = Date.now()): Promise<RefreshClaims> => {
  const { pwv, ...claims } = await verifyToken(secret, token, 'refresh', now)
  if (!isString(pwv)) throw new AuthError('invalid', 'the refresh token lacks required claims')
  return { ...claims, typ: 'refresh', pwv }
}

/**
 * New tokens for the holder of a valid refresh token, issued from the user as stored now (a role
 * change shows at once). A removed user, or a password changed since issue, gives 'revoked'.
 */
export const refresh = async (
  storage: Pick<DirectoryStore, 'getUser'>,
  secret: string,
  refreshToken: string,
  now: number = Date.now(),
  ttl: TokenTtl = DEFAULT_TOKEN_TTL,
): Promise<{ readonly tokens: Tokens; readonly user: UserRecord }> => {
  const claims = await verifyRefreshToken(secret, refreshToken, now)
  const user = await storage.getUser(claims.tenant, claims.sub)
  if (!user) throw new AuthError('revoked', 'the user of this session no longer exists')
  if (passwordVersion(user.passwordHash) !== claims.pwv) {
    throw new AuthError('revoked', 'the password changed since this session began; log in again')
  }
  return { tokens: await issueTokens(secret, user, now, ttl), user }
}
