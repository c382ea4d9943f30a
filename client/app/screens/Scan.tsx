/**
 * Scan mode: a focused input that takes what a keyboard-wedge scanner types (SKU or barcode, then
 * Enter), and the camera through the browser's BarcodeDetector where there is one. A scan opens
 * the item, or (editors) picks or receives one at the chosen location at once. Success and
 * failure sound and vibrate differently, so nobody has to look at the screen.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { FormEvent } from 'react'
import { InventoryError } from '../../../sync/inventory.js'
import type { ItemView } from '../../../sync/inventory.js'
import { Feedback } from '../feedback.js'
import { useDeviceSettings, useRoute, useStatus, useStore } from '../hooks.js'
import { CameraScanner, hasBarcodeDetector } from '../parts/CameraScanner.js'

type Mode = 'open' | 'pick' | 'receive'

interface Outcome {
  readonly ok: boolean
  readonly text: string
}

export function Scan() {
  const store = useStore()
  const ready = useStatus().phase === 'ready'
  const { navigate } = useRoute()
  const [settings, updateSettings] = useDeviceSettings()
  const feedback = useMemo(() => new Feedback(settings), [settings])
  const [mode, setMode] = useState<Mode>('open')
  const [code, setCode] = useState('')
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const [choices, setChoices] = useState<ItemView[]>([])
  const [camera, setCamera] = useState(false)
  const inputRef = useRef<HTMLInputElement>(null)
  const locations = ready ? store.inventory.listLocations().filter((l) => !l.archived) : []
  const location = settings.location && locations.some((l) => l.id === settings.location) ? settings.location : (locations[0]?.id ?? '')

  // Keep the scanner's input focused: a wedge scanner types wherever the focus is.
  useEffect(() => {
    inputRef.current?.focus()
  }, [mode, outcome])

  const act = useCallback(
    (item: ItemView): Outcome => {
      if (mode === 'open') {
        navigate(`/items/${encodeURIComponent(item.id)}`)
        return { ok: true, text: `Opened ${item.sku}` }
      }
      if (mode === 'pick') store.pick(item.id, location, 1)
      else store.receive(item.id, location, 1)
      return { ok: true, text: `${mode === 'pick' ? 'Picked' : 'Received'} 1 × ${item.sku} · now ${store.inventory.onHand(item.id)}` }
    },
    [mode, location, navigate, store],
  )

  const handle = useCallback(
    (raw: string) => {
      const scanned = raw.trim()
      if (scanned === '') return
      setChoices([])
      if (!ready) {
        feedback.failure()
        setOutcome({ ok: false, text: 'The inventory is still opening; scan again in a moment.' })
        return
      }
      const found = store.inventory.findByCode(scanned)
      const live = found.filter((i) => !i.archived)
      const matches = live.length > 0 ? live : found
      if (matches.length === 0) {
        feedback.failure()
        setOutcome({ ok: false, text: `No item with SKU or barcode “${scanned}”` })
        return
      }
      const [only] = matches
      if (matches.length > 1 || !only) {
        feedback.failure()
        setChoices(matches)
        setOutcome({ ok: false, text: `${matches.length} items have “${scanned}”: choose one` })
        return
      }
      try {
        const result = act(only)
        feedback.success()
        setOutcome(result)
      } catch (err) {
        if (!(err instanceof InventoryError)) throw err
        feedback.failure()
        setOutcome({ ok: false, text: err.message })
      }
    },
    [act, feedback, ready, store],
  )

  const submit = (e: FormEvent) => {
    e.preventDefault()
    handle(code)
    setCode('')
  }

  return (
    <section className="scan">
      <div className="segmented" role="group" aria-label="Scan mode">
        <button type="button" className={mode === 'open' ? 'active' : ''} onClick={() => setMode('open')}>
          Open
        </button>
        {!store.readOnly && (
          <button type="button" className={mode === 'pick' ? 'active' : ''} onClick={() => setMode('pick')}>
            Pick 1
          </button>
        )}
        {!store.readOnly && (
          <button type="button" className={mode === 'receive' ? 'active' : ''} onClick={() => setMode('receive')}>
            Receive 1
          </button>
        )}
      </div>
      {mode !== 'open' && (
        <label>
          At location
          <select value={location} onChange={(e) => updateSettings({ location: e.target.value })}>
            {locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <form onSubmit={submit}>
        <input
          ref={inputRef}
          className="scan-input"
          aria-label="Scan or type a SKU or barcode"
          placeholder="Scan or type a code, then Enter"
          autoComplete="off"
          autoCapitalize="none"
          enterKeyHint="go"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          onBlur={() => !camera && setTimeout(() => inputRef.current?.focus(), 300)}
        />
      </form>
      {outcome && (
        <p className={outcome.ok ? 'scan-result ok' : 'scan-result fail'} role="status" data-testid="scan-result">
          {outcome.text}
        </p>
      )}
      {choices.length > 0 && (
        <ul className="choices">
          {choices.map((c) => (
            <li key={c.id}>
              <button type="button" className="big" onClick={() => navigate(`/items/${encodeURIComponent(c.id)}`)}>
                {c.sku} · {c.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {hasBarcodeDetector() ? (
        camera ? (
          <CameraScanner onCode={handle} onClose={() => setCamera(false)} />
        ) : (
          <button type="button" className="big" onClick={() => setCamera(true)}>
            Use the camera
          </button>
        )
      ) : (
        <p className="muted small">This browser has no camera barcode reader; use a scanner or type the code.</p>
      )}
      <div className="settings-row">
        <label className="toggle">
          <input type="checkbox" checked={settings.sound} onChange={(e) => updateSettings({ sound: e.target.checked })} /> Sound
        </label>
        <label className="toggle">
          <input type="checkbox" checked={settings.vibrate} onChange={(e) => updateSettings({ vibrate: e.target.checked })} /> Vibration
        </label>
      </div>
    </section>
  )
}
