/** Seeded randomness and seed bookkeeping for the fuzz suites. */
import { seededRandom } from '../../sync/ids.js'
import type { RandomSource } from '../../sync/ids.js'

/** A seeded generator with the helpers a schedule needs. Same seed, same schedule. */
export class Rng {
  private readonly next: RandomSource

  constructor(readonly seed: number) {
    this.next = seededRandom(seed)
  }

  float(): number {
    return this.next()
  }

  /** A whole number from lo to hi, both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list')
    return list[Math.floor(this.next() * list.length)] as T
  }

  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0)
    let r = this.next() * total
    for (const [w, value] of choices) {
      r -= w
      if (r < 0) return value
    }
    return (choices[choices.length - 1] as readonly [number, T])[1]
  }

  shuffle<T>(list: readonly T[]): T[] {
    const out = [...list]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  /** A 32-bit seed for a child generator. */
  seed32(): number {
    return Math.floor(this.next() * 0x1_0000_0000) >>> 0
  }
}

/**
 * Seeds for the id generators of several replicas of one schedule. seededRandom (mulberry32) walks
 * one cycle of 2^32 states by a fixed step, so two arbitrary seeds can name overlapping stretches
 * of it and then produce the same ids. Seeds spaced 2^24 steps apart cannot overlap within a run.
 */
export const replicaSeed = (base: number, replica: number): number =>
  (base + Math.imul(0x6d2b79f5, replica << 24)) >>> 0

/** A Yjs client id (Yjs uses uint32 client ids); seeded, so conflict order is reproducible too. */
export const clientIdFrom = (rng: Rng): number => rng.int(1, 0xffff_fffe)

export interface FuzzPlan {
  /** The seeds of the randomized run. */
  readonly seeds: readonly number[]
  /** Describes how the run was chosen, for the test name. */
  readonly label: string
}

/** FUZZ_SEED=n runs that one seed; FUZZ_SCHEDULES=n runs seeds 1…n; otherwise seeds 1…defaultCount. */
export const fuzzPlan = (defaultCount: number): FuzzPlan => {
  const one = process.env.FUZZ_SEED
  if (one !== undefined && one !== '') {
    const seed = Number(one)
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED must be a whole number (got ${one})`)
    return { seeds: [seed], label: `seed ${seed} (FUZZ_SEED)` }
  }
  const env = process.env.FUZZ_SCHEDULES
  const count = env !== undefined && env !== '' ? Number(env) : defaultCount
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`FUZZ_SCHEDULES must be a whole number above zero (got ${env})`)
  return { seeds: Array.from({ length: count }, (_, i) => i + 1), label: `${count} schedules` }
}

/** A failed invariant, named after the rule it breaks. */
export class RuleBroken extends Error {
  override readonly name = 'RuleBroken'
  constructor(rule: string, message: string) {
    super(`[${rule}] ${message}`)
  }
}

/** Re-throws a failure of one seeded schedule with the seed and how to replay it in front. */
export const withSeed = (suite: string, seed: number, trace: readonly string[], run: () => void): void => {
  try {
    run()
  } catch (e) {
    const tail = trace.slice(-40).join('\n  ')
    const head = `${suite} seed ${seed} failed (replay: FUZZ_SEED=${seed} npx vitest run test/convergence.fuzz.test.ts -t '${suite.replace(/[[\]]/g, '')}')`
    if (e instanceof Error) {
      // Keep the error object (an assertion keeps its actual/expected diff); put the seed in front.
      e.message = `${head}: ${e.message}\n last steps:\n  ${tail}`
      throw e
    }
    throw new Error(`${head}: ${String(e)}\n last steps:\n  ${tail}`)
  }
}
