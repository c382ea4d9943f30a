import { describe, expect, it } from 'vitest'
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.js'

const CHEAP = { N: 1024, r: 8, p: 1 }

describe('passwords', () => {
  it('[AUTH-1] a password is stored as a salted scrypt hash that names its parameters', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(hash).not.toContain('correct')
    expect(await verifyPassword('correct horse battery', hash)).toBe(true)
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
    // A random salt: the same password never hashes the same way twice.
    expect(await hashPassword('correct horse battery')).not.toBe(hash)
  })

  it('[AUTH-1] verification reads the parameters from the stored hash, so the cost can change later', async () => {
    const cheap = await hashPassword('pallet jack', CHEAP)
    expect(cheap.startsWith('scrypt$1024$8$1$')).toBe(true)
    expect(await verifyPassword('pallet jack', cheap)).toBe(true)
    expect(needsRehash(cheap)).toBe(true)
    expect(needsRehash(await hashPassword('pallet jack', DEFAULT_SCRYPT_PARAMS))).toBe(false)
  })

  it('[AUTH-1] the same password in another Unicode normalization form still matches', async () => {
    const hash = await hashPassword('Lagerbestände', CHEAP)
    expect(await verifyPassword('Lagerbesta\u0308nde', hash)).toBe(true)
  })

  it('[AUTH-2] a malformed or unsupported hash is no match and never throws', async () => {
    const good = await hashPassword('forklift', CHEAP)
    const [, n, r, p, salt, key] = good.split('$') as [string, string, string, string, string, string]
    const malformed = [
      '',
      'plain-text-password',
      'scrypt',
      `bcrypt$${n}$${r}$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$${n}$${r}$${p}$${salt}$${key}$extra`,
      `scrypt$1000$${r}$${p}$${salt}$${key}`, // N not a power of two
      `scrypt$0$${r}$${p}$${salt}$${key}`,
      `scrypt$-1024$${r}$${p}$${salt}$${key}`,
      `scrypt$${2 ** 30}$${r}$${p}$${salt}$${key}`, // would need 128 GiB
      `scrypt$131072$1$1$${salt}$${key}`, // N too large for r = 1
      `scrypt$${n}$0$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$99$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$!!!$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$short`,
      `scrypt$${n}$${r}$${p}$$${key}`,
      `scrypt$1e3$${r}$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$${key}=`,
    ]
    for (const stored of malformed) await expect(verifyPassword('forklift', stored), stored).resolves.toBe(false)
    // Not even a string (a corrupt row); the cast stands for data from outside the type system.
    await expect(verifyPassword('forklift', null as unknown as string)).resolves.toBe(false)
    await expect(verifyPassword('x'.repeat(5000), good)).resolves.toBe(false)
  })

  it('[AUTH-10] a new password needs at least 8 characters', () => {
    expect(passwordProblem('short')).toMatch(/at least 8/)
    expect(passwordProblem('12345678')).toBeUndefined()
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most/)
  })
})
