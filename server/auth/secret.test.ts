import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AUTH_SECRET_FILE_NAME, loadAuthSecret } from './secret.js'

describe('auth secret', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qm-secret-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('[AUTH-9] AUTH_SECRET wins and nothing is written', async () => {
    const secret = 'x'.repeat(40)
    expect(await loadAuthSecret({ authSecret: secret, dataDir: dir })).toEqual({ secret, source: 'env' })
    await expect(stat(join(dir, AUTH_SECRET_FILE_NAME))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('[AUTH-9] without AUTH_SECRET a 32-byte secret is generated once, with mode 0600, and reused', async () => {
    const dataDir = join(dir, 'data')
    const first = await loadAuthSecret({ authSecret: undefined, dataDir })
    const path = join(dataDir, AUTH_SECRET_FILE_NAME)
    expect(first).toMatchObject({ source: 'generated', path })
    expect(Buffer.from(first.secret, 'base64url')).toHaveLength(32)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await readFile(path, 'utf8')).trim()).toBe(first.secret)
    expect(await loadAuthSecret({ authSecret: undefined, dataDir })).toEqual({ secret: first.secret, source: 'file', path })
  })

  it('[AUTH-9] processes starting at once agree on one secret', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => loadAuthSecret({ authSecret: undefined, dataDir: dir })))
    expect(new Set(results.map((r) => r.secret)).size).toBe(1)
    expect(results.filter((r) => r.source === 'generated')).toHaveLength(1)
  })

  it('[AUTH-9] a short secret, from the environment or the file, is refused rather than used', async () => {
    await expect(loadAuthSecret({ authSecret: 'short', dataDir: dir })).rejects.toThrow(/AUTH_SECRET must have at least 32/)
    await writeFile(join(dir, AUTH_SECRET_FILE_NAME), '\n', { mode: 0o600 })
    await expect(loadAuthSecret({ authSecret: undefined, dataDir: dir })).rejects.toThrow(/fewer than 32.*delete it/)
  })
})
