/**
 * What a scan feels like: a short high beep and a tap on success, a low double buzz on failure.
 * Web Audio and navigator.vibrate where the device has them; silent where it does not.
 */
export class Feedback {
  private audio: AudioContext | null = null

  constructor(private readonly settings: { readonly sound: boolean; readonly vibrate: boolean }) {}

  private tone(frequency: number, ms: number, repeat = 1): void {
    if (!this.settings.sound || typeof AudioContext === 'undefined') return
    this.audio ??= new AudioContext()
    const ctx = this.audio
    for (let i = 0; i < repeat; i++) {
      const start = ctx.currentTime + (i * ms * 1.6) / 1000
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.frequency.value = frequency
      gain.gain.setValueAtTime(0.2, start)
      gain.gain.exponentialRampToValueAtTime(0.001, start + ms / 1000)
      osc.connect(gain).connect(ctx.destination)
      osc.start(start)
      osc.stop(start + ms / 1000)
    }
  }

  private buzz(pattern: number[]): void {
    if (this.settings.vibrate && typeof navigator.vibrate === 'function') navigator.vibrate(pattern)
  }

  success(): void {
    this.tone(1320, 90)
    this.buzz([40])
  }

  failure(): void {
    this.tone(220, 180, 2)
    this.buzz([180, 90, 180])
  }
}
