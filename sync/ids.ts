/** Branded ids: a string that has been checked to be an id of that kind. */
export type ItemId = string & { readonly __brand: 'ItemId' }
export type LocationId = string & { readonly __brand: 'LocationId' }
export type MovementId = string & { readonly __brand: 'MovementId' }
export type UserId = string & { readonly __brand: 'UserId' }
export type TenantId = string & { readonly __brand: 'TenantId' }

/** Where randomness comes from: crypto in production, a seeded generator in fuzz tests. */
export type RandomSource = () => number

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

export const cryptoRandom: RandomSource = () => {
  const buf = new Uint32Array(1)
  globalThis.crypto.getRandomValues(buf)
  return (buf[0] ?? 0) / 0x1_0000_0000
}

/** A new id with a readable prefix: 20 base-36 characters carry about 103 bits. */
export const newId = (prefix: string, random: RandomSource = cryptoRandom): string => {
  let out = prefix + '_'
  for (let i = 0; i < 20; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)]
  return out
}

/** A small fast seeded generator (mulberry32) for reproducible fuzz runs. */
export const seededRandom = (seed: number): RandomSource => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
}
