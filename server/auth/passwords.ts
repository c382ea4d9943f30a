/**
 * Password hashing with scrypt (node:crypto). The stored string carries its own parameters,
 * `scrypt$N$r$p$salt$hash` (salt and hash in base64url), so the cost can rise later without
 * invalidating existing hashes: `needsRehash` tells the login path when to upgrade one.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number
  /** Block size. */
  readonly r: number
  /** Parallelization. */
  readonly p: number
}

/** OWASP's scrypt baseline (N=2^15, r=8, p=1): 32 MiB and about 50–100 ms per hash. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 }

const SALT_BYTES = 16
const KEY_BYTES = 32
/** scrypt needs 128·N·r bytes; a stored hash may ask for at most this, so a forged one cannot exhaust memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const MAX_PASSWORD_LENGTH = 1024
export const MIN_PASSWORD_LENGTH = 8

const BASE64URL = /^[A-Za-z0-9_-]+$/
const DECIMAL = /^[1-9][0-9]{0,9}$/

const derive = (password: string, salt: Uint8Array, keyLength: number, params: ScryptParams): Promise<Buffer> => {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 2 * 128 * params.N * params.r }
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two keyboards must give the same bytes.
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

const checkParams = (params: ScryptParams): boolean =>
  Number.isSafeInteger(params.N) &&
  params.N >= 2 &&
  (params.N & (params.N - 1)) === 0 &&
  Number.isSafeInteger(params.r) &&
  params.r >= 1 &&
  Number.isSafeInteger(params.p) &&
  params.p >= 1 &&
  params.p <= 16 &&
  // scrypt's own bound N < 2^(128·r/8); node:crypto throws beyond it.
  Math.log2(params.N) < 16 * params.r &&
  128 * params.N * params.r <= MAX_SCRYPT_MEMORY

export const hashPassword = async (password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> => {
  if (!checkParams(params)) throw new RangeError(`unusable scrypt parameters ${JSON.stringify(params)}`)
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, KEY_BYTES, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

interface ParsedHash {
  readonly params: ScryptParams
  readonly salt: Buffer
  readonly key: Buffer
}

/** Parses a stored hash; undefined for anything that is not exactly our format with sane values. */
const parseHash = (stored: string): ParsedHash | undefined => {
  if (typeof stored !== 'string') return undefined
  const parts = stored.split('$')
  if (parts.length !== 6) return undefined
  const [scheme, n, r, p, salt, key] = parts
  if (scheme !== 'scrypt' || n === undefined || r === undefined || p === undefined || salt === undefined || key === undefined) {
    return undefined
  }
  if (![n, r, p].every((v) => DECIMAL.test(v)) || !BASE64URL.test(salt) || !BASE64URL.test(key)) return undefined
  const params = { N: Number(n), r: Number(r), p: Number(p) }
  if (!checkParams(params)) return undefined
  const saltBytes = Buffer.from(salt, 'base64url')
  const keyBytes = Buffer.from(key, 'base64url')
  if (saltBytes.length < 8 || keyBytes.length < 16 || keyBytes.length > 128) return undefined
  return { params, salt: saltBytes, key: keyBytes }
}

/**
 * True when `password` matches `stored`. A malformed or unsupported hash is simply no match: this
 * never throws for bad input, so a corrupt row cannot turn a login into a 500.
 */
export const verifyPassword = async (password: string, stored: string): Promise<boolean> => {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return false
  const parsed = parseHash(stored)
  if (!parsed) return false
  const key = await derive(password, parsed.salt, parsed.key.length, parsed.params)
  return timingSafeEqual(key, parsed.key)
}

/** True when a stored hash uses weaker parameters than `params` (or is not ours at all). */
export const needsRehash = (stored: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean => {
  const parsed = parseHash(stored)
  return !parsed || parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p
}

/** Why a new password is not acceptable, or undefined when it is. */
export const passwordProblem = (password: string): string | undefined => {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`
  if (password.length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`
  return undefined
}
