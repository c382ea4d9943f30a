import { describe, expect, it } from 'vitest'
import { DEFAULT_WEBHOOK_SETTINGS, retryDelay, signWebhook } from './webhooks.js'

describe('webhook signing and backoff', () => {
  it('[WEBHOOK-1] the signature is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret', () => {
    // Computed independently: printf '%s' '1763780000.{…}' | openssl dgst -sha256 -hmac 'whsec_example_secret_0123456789'
    // (docs/PROTOCOL.md gives the same example, so receivers can check their code against it).
    expect(signWebhook('whsec_example_secret_0123456789', '1763780000', '{"event":"alert.opened","tenant":"acme"}')).toBe(
      'sha256=6f133ec2a5421864ecde3cbe5f87aef5edf7cf5ce49e697f0107e392216b62b3',
    )
  })

  it('[WEBHOOK-2] the wait after the n-th failure doubles from the base, up to the cap', () => {
    const s = { ...DEFAULT_WEBHOOK_SETTINGS, baseDelayMs: 5_000, maxDelayMs: 60_000 }
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, s))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000])
    const total = Array.from({ length: DEFAULT_WEBHOOK_SETTINGS.maxAttempts - 1 }, (_, i) => retryDelay(i + 1, DEFAULT_WEBHOOK_SETTINGS)).reduce((a, b) => a + b, 0)
    expect(total / 60_000).toBeCloseTo(42.6, 1) // the defaults retry for about 40 minutes
  })
})
