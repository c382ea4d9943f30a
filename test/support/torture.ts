/**
 * How hard the torture suites (test/torture/) push. `npm test` runs the short version (tens of
 * seconds in all); `npm run torture` sets TORTURE=long and runs the long one. TORTURE_SEED=n
 * replays one seed of a seeded suite.
 */
export const LONG = process.env.TORTURE === 'long'

const seedFromEnv = (): number | null => {
  const v = process.env.TORTURE_SEED
  if (v === undefined || v === '') return null
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`TORTURE_SEED must be a whole number (got ${v})`)
  return n
}

/** The seeds a suite runs: TORTURE_SEED alone if set, else the given ones. */
export const tortureSeeds = (short: readonly number[], long: readonly number[]): readonly number[] => {
  const one = seedFromEnv()
  return one !== null ? [one] : LONG ? long : short
}

export const SHORT_SCALE = {
  chaos: { clients: 5, seconds: 20, kills: 2 },
  protocolFrames: 15_000,
  schemaRounds: 200,
  soak: { connections: 100, seconds: 10, tenants: 2 },
}

export const LONG_SCALE: typeof SHORT_SCALE = {
  chaos: { clients: 8, seconds: 150, kills: 8 },
  protocolFrames: 150_000,
  schemaRounds: 1500,
  soak: { connections: 1000, seconds: 600, tenants: 10 },
}

export const SCALE = LONG ? LONG_SCALE : SHORT_SCALE

/** A test timeout that covers a suite's own duration plus setup and the final checks. */
export const timeoutFor = (seconds: number): number => (seconds + 120) * 1000
