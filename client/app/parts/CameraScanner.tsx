/**
 * Camera scanning with the browser's BarcodeDetector (Chrome on Android, and others where it
 * exists). The same code is not reported twice within two seconds.
 */
import { useEffect, useRef, useState } from 'react'

/** The parts of the (not yet standard in TypeScript's DOM lib) Barcode Detection API used here. */
interface DetectedBarcode {
  readonly rawValue: string
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>
}
type BarcodeDetectorConstructor = new (options?: { formats?: string[] }) => BarcodeDetectorLike

const detectorClass = (): BarcodeDetectorConstructor | null => {
  const ctor = (globalThis as { BarcodeDetector?: unknown }).BarcodeDetector
  return typeof ctor === 'function' ? (ctor as BarcodeDetectorConstructor) : null
}

export const hasBarcodeDetector = (): boolean => detectorClass() !== null

const SAME_CODE_MS = 2000
const EVERY_MS = 250

export function CameraScanner({ onCode, onClose }: { onCode: (code: string) => void; onClose: () => void }) {
  const videoRef = useRef<HTMLVideoElement>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    const Detector = detectorClass()
    if (!Detector) return
    const detector = new Detector()
    let stream: MediaStream | null = null
    let timer: ReturnType<typeof setTimeout> | null = null
    let stopped = false
    let last = { code: '', at: 0 }
    const tick = async () => {
      const video = videoRef.current
      if (stopped || !video) return
      try {
        if (video.readyState >= 2) {
          for (const b of await detector.detect(video)) {
            const now = Date.now()
            if (b.rawValue !== last.code || now - last.at > SAME_CODE_MS) {
              last = { code: b.rawValue, at: now }
              onCode(b.rawValue)
            }
          }
        }
      } catch (err) {
        setError(err instanceof Error ? err.message : String(err))
      }
      if (!stopped) timer = setTimeout(() => void tick(), EVERY_MS)
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then(async (s) => {
        stream = s
        if (stopped || !videoRef.current) return
        videoRef.current.srcObject = s
        await videoRef.current.play()
        void tick()
      })
      .catch((err: unknown) => setError(`The camera is not available: ${err instanceof Error ? err.message : String(err)}`))
    return () => {
      stopped = true
      if (timer) clearTimeout(timer)
      stream?.getTracks().forEach((t) => t.stop())
    }
  }, [onCode])

  return (
    <div className="camera">
      <video ref={videoRef} muted playsInline />
      {error && <p className="error">{error}</p>}
      <button type="button" className="big" onClick={onClose}>
        Stop the camera
      </button>
    </div>
  )
}
