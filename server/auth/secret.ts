/**
 * The secret that signs every token. From AUTH_SECRET when set (several instances must share
 * one); otherwise from `${dataDir}/auth-secret`, which is generated on first start (32 random
 * bytes, mode 0600). Losing or changing it signs every user out, nothing more.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'

export const AUTH_SECRET_FILE_NAME = 'auth-secret'
/** HS256 wants at least 256 bits of key. */
export const MIN_AUTH_SECRET_LENGTH = 32

export interface AuthSecret {
  readonly secret: string
  /** Where it came from, for the startup log line. */
  readonly source: 'env' | 'file' | 'generated'
  /** The file it was read from or written to (absent for 'env'). */
  readonly path?: string
}

const isNodeError = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code

const readSecretFile = async (path: string): Promise<string | undefined> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (isNodeError(error, 'ENOENT')) return undefined
    throw error
  }
  const secret = text.trim()
  if (secret.length < MIN_AUTH_SECRET_LENGTH) {
    throw new Error(
      `${path} holds ${secret.length} characters, fewer than ${MIN_AUTH_SECRET_LENGTH}: ` +
        'fix it, or delete it to generate a new secret (which signs every user out)',
    )
  }
  return secret
}

/**
 * Writes a new secret without ever leaving a half-written file where the real one belongs, and
 * without overwriting one that another process created meanwhile: write and fsync a temporary
 * file, then hard-link it into place (link fails if the target exists).
 */
const generateSecretFile = async (dataDir: string, path: string): Promise<boolean> => {
  await mkdir(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(`${secret}\n`, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await link(temporary, path)
    return true
  } catch (error) {
    if (isNodeError(error, 'EEXIST')) return false
    throw error
  } finally {
    await unlink(temporary)
  }
}

export const loadAuthSecret = async (options: {
  readonly authSecret: string | undefined
  readonly dataDir: string
}): Promise<AuthSecret> => {
  if (options.authSecret !== undefined) {
    if (options.authSecret.length < MIN_AUTH_SECRET_LENGTH) {
      throw new Error(`AUTH_SECRET must have at least ${MIN_AUTH_SECRET_LENGTH} characters`)
    }
    return { secret: options.authSecret, source: 'env' }
  }
  const path = join(options.dataDir, AUTH_SECRET_FILE_NAME)
  const existing = await readSecretFile(path)
  if (existing !== undefined) return { secret: existing, source: 'file', path }
  const created = await generateSecretFile(options.dataDir, path)
  const secret = await readSecretFile(path)
  if (secret === undefined) throw new Error(`${path} vanished right after it was written`)
  return { secret, source: created ? 'generated' : 'file', path }
}
