import { sign } from 'hono/jwt'
import { describe, expect, it } from 'vitest'
import { createMemoryStorage } from '../storage/memory.js'
import { AuthError } from './errors.js'
import { authenticate } from './login.js'
import { hashPassword } from './passwords.js'
import { DEFAULT_TOKEN_TTL, issueTokens, refresh, verifyAccessToken, verifyRefreshToken } from './tokens.js'

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'
const NOW = Date.UTC(2030, 0, 1, 9, 0, 0)
const alice = {
  id: 'u_alice',
  tenant: 'acme',
  role: 'editor',
  name: 'Alice Adams',
  username: 'alice',
  passwordHash: 'scrypt$1$1$1$salt$hash',
} as const

const authError = async (promise: Promise<unknown>): Promise<AuthError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AuthError)
  return error as AuthError
}

const setup = async () => {
  const storage = createMemoryStorage()
  await storage.createTenant({ id: 'acme', name: 'Acme' })
  const user = await storage.createUser({
    tenant: 'acme',
    username: 'alice',
    name: 'Alice',
    role: 'editor',
    passwordHash: await hashPassword('correct horse', { N: 1024, r: 8, p: 1 }),
  })
  return { storage, user }
}

describe('tokens', () => {
  it('[AUTH-3] an access token carries who, where and what role, and lasts 15 minutes', async () => {
    const tokens = await issueTokens(SECRET, alice, NOW)
    const iat = NOW / 1000
    expect(tokens.expiresAt).toBe(NOW + 15 * 60 * 1000)
    expect(tokens.refreshExpiresAt).toBe(NOW + 30 * 24 * 3600 * 1000)
    expect(await verifyAccessToken(SECRET, tokens.token, NOW)).toEqual({
      sub: 'u_alice',
      tenant: 'acme',
      role: 'editor',
      name: 'Alice Adams',
      username: 'alice',
      typ: 'access',
      iat,
      exp: iat + 900,
    })
    const refreshClaims = await verifyRefreshToken(SECRET, tokens.refreshToken, NOW)
    expect(refreshClaims).toMatchObject({ sub: 'u_alice', tenant: 'acme', typ: 'refresh', exp: iat + DEFAULT_TOKEN_TTL.refreshSeconds })
    expect(JSON.stringify(refreshClaims)).not.toContain(alice.passwordHash)
  })

  it('[AUTH-3] token lifetimes are configurable', async () => {
    const tokens = await issueTokens(SECRET, alice, NOW, { accessSeconds: 60, refreshSeconds: 120 })
    expect(tokens.expiresAt).toBe(NOW + 60_000)
    expect(tokens.refreshExpiresAt).toBe(NOW + 120_000)
  })

  it('[AUTH-4] a token signed with another secret, tampered with, unsigned or garbled is invalid', async () => {
    const { token } = await issueTokens(SECRET, alice, NOW)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
    const candidates = [
      (await issueTokens('another-secret-that-is-also-long-enough', alice, NOW)).token,
      `${header}.${promoted}.${signature}`,
      `${none}.${payload}.`,
      await sign({ ...claims }, SECRET, 'HS512'),
      'not.a.jwt',
      'garbage',
      '',
    ]
    for (const candidate of candidates) {
      const error = await authError(verifyAccessToken(SECRET, candidate, NOW))
      expect(error.code, candidate).toBe('invalid')
    }
  })

  it('[AUTH-4] a correctly signed token without the required claims is invalid', async () => {
    const exp = NOW / 1000 + 60
    for (const claims of [
      { typ: 'access', exp },
      { sub: 'u_a', tenant: 'acme', role: 'owner', name: 'A', username: 'a', typ: 'access', iat: NOW / 1000, exp },
      { sub: 'u_a', tenant: 'acme', role: 'admin', name: 'A', username: 'a', typ: 'access', iat: NOW / 1000 },
    ]) {
      expect((await authError(verifyAccessToken(SECRET, await sign(claims, SECRET), NOW))).code).toBe('invalid')
    }
  })

  it('[AUTH-5] a refresh token is refused as an access token and the other way round', async () => {
    const tokens = await issueTokens(SECRET, alice, NOW)
    expect((await authError(verifyAccessToken(SECRET, tokens.refreshToken, NOW))).code).toBe('wrong-type')
    expect((await authError(verifyRefreshToken(SECRET, tokens.token, NOW))).code).toBe('wrong-type')
  })

  it('[AUTH-6] a token is expired from its exp on, but a forged expired token is still just invalid', async () => {
    const tokens = await issueTokens(SECRET, alice, NOW)
    expect(await verifyAccessToken(SECRET, tokens.token, NOW + 899_999)).toMatchObject({ sub: 'u_alice' })
    expect((await authError(verifyAccessToken(SECRET, tokens.token, NOW + 900_000))).code).toBe('expired')
    expect((await authError(verifyRefreshToken(SECRET, tokens.refreshToken, NOW + 30 * 24 * 3600 * 1000))).code).toBe('expired')
    const forged = (await issueTokens('an-attackers-secret-of-sufficient-length', alice, NOW - 3_600_000)).token
    expect((await authError(verifyAccessToken(SECRET, forged, NOW))).code).toBe('invalid')
  })
})

describe('refresh', () => {
  it('[AUTH-7] refresh issues tokens from the user as stored now, so a role change shows at once', async () => {
    const { storage, user } = await setup()
    const first = await issueTokens(SECRET, user, NOW)
    await storage.setUserRole('acme', 'alice', 'viewer')
    const later = NOW + 20 * 60 * 1000
    const { tokens, user: current } = await refresh(storage, SECRET, first.refreshToken, later)
    expect(current.role).toBe('viewer')
    expect(await verifyAccessToken(SECRET, tokens.token, later)).toMatchObject({ sub: user.id, role: 'viewer' })
    expect(tokens.expiresAt).toBe(later + 900_000)
  })

  it('[AUTH-7] a removed user or a changed password revokes the refresh token', async () => {
    const { storage, user } = await setup()
    const tokens = await issueTokens(SECRET, user, NOW)
    await storage.setUserPassword('acme', 'alice', await hashPassword('new password!', { N: 1024, r: 8, p: 1 }))
    expect((await authError(refresh(storage, SECRET, tokens.refreshToken, NOW))).code).toBe('revoked')

    const fresh = await issueTokens(SECRET, (await storage.getUser('acme', user.id)) ?? user, NOW)
    expect((await refresh(storage, SECRET, fresh.refreshToken, NOW)).user.id).toBe(user.id)
    await storage.removeUser('acme', 'alice')
    expect((await authError(refresh(storage, SECRET, fresh.refreshToken, NOW))).code).toBe('revoked')
    // Re-adding the same username makes a new user; the old session stays dead.
    await storage.createUser({ tenant: 'acme', username: 'alice', name: 'Alice', role: 'admin', passwordHash: user.passwordHash })
    expect((await authError(refresh(storage, SECRET, fresh.refreshToken, NOW))).code).toBe('revoked')
  })

  it('[AUTH-7] refresh refuses an access token and an expired refresh token', async () => {
    const { storage, user } = await setup()
    const tokens = await issueTokens(SECRET, user, NOW)
    expect((await authError(refresh(storage, SECRET, tokens.token, NOW))).code).toBe('wrong-type')
    expect((await authError(refresh(storage, SECRET, tokens.refreshToken, tokens.refreshExpiresAt))).code).toBe('expired')
  })
})

describe('login', () => {
  it('[AUTH-8] the right password returns the user; unknown tenant, unknown user and wrong password look the same', async () => {
    const { storage, user } = await setup()
    expect(await authenticate(storage, 'acme', 'alice', 'correct horse')).toEqual(user)
    expect(await authenticate(storage, 'acme', 'ALICE', 'correct horse')).toEqual(user)
    const failures = [
      await authError(authenticate(storage, 'acme', 'alice', 'wrong horse')),
      await authError(authenticate(storage, 'acme', 'mallory', 'correct horse')),
      await authError(authenticate(storage, 'nope', 'alice', 'correct horse')),
    ]
    expect(failures.map((e) => [e.code, e.message])).toEqual(Array(3).fill(['bad-credentials', 'unknown user or wrong password']))
  })
})
