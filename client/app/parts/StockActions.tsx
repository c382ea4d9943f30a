/**
 * Receive, pick, adjust (reason required), count and transfer, with big touch targets: one row of
 * actions, a location, a quantity with large − and + buttons, and one big button that says exactly
 * what will happen ("Pick 2"). Every action is a new movement in the ledger, made at once on this
 * device whether or not there is a network.
 */
import { useMemo, useState } from 'react'
import type { FormEvent } from 'react'
import { InventoryError } from '../../../sync/inventory.js'
import type { ItemView } from '../../../sync/inventory.js'
import { Feedback } from '../feedback.js'
import { useDeviceSettings, useStore } from '../hooks.js'

type Action = 'receive' | 'pick' | 'adjust' | 'count' | 'transfer'
const ACTIONS: ReadonlyArray<{ id: Action; label: string }> = [
  { id: 'receive', label: 'Receive' },
  { id: 'pick', label: 'Pick' },
  { id: 'adjust', label: 'Adjust' },
  { id: 'count', label: 'Count' },
  { id: 'transfer', label: 'Transfer' },
]
const REASONS = ['damaged', 'lost', 'found', 'expired', 'correction'] as const

export function QuantityInput(props: { value: number; onChange: (n: number) => void; min: number; label: string }) {
  const { value, onChange, min, label } = props
  return (
    <div className="quantity">
      <button type="button" className="step" aria-label={`Less ${label.toLowerCase()}`} onClick={() => onChange(Math.max(min, value - 1))}>
        −
      </button>
      <input
        aria-label={label}
        inputMode="numeric"
        pattern="[0-9]*"
        value={String(value)}
        onChange={(e) => {
          const n = Number(e.target.value.replace(/[^0-9]/g, ''))
          onChange(Number.isSafeInteger(n) ? Math.max(min, n) : min)
        }}
      />
      <button type="button" className="step" aria-label={`More ${label.toLowerCase()}`} onClick={() => onChange(value + 1)}>
        +
      </button>
    </div>
  )
}

export function StockActions({ item }: { item: ItemView }) {
  const store = useStore()
  const [settings, updateSettings] = useDeviceSettings()
  const feedback = useMemo(() => new Feedback(settings), [settings])
  const locations = store.inventory.listLocations().filter((l) => !l.archived)
  const richest = Object.entries(item.byLocation).sort((a, b) => b[1] - a[1])[0]?.[0]
  const fallback =
    (settings.location && locations.some((l) => l.id === settings.location) ? settings.location : null) ?? richest ?? locations[0]?.id ?? ''
  const [action, setAction] = useState<Action>('pick')
  const [chosen, setChosen] = useState<string | null>(null)
  const [toLocation, setToLocation] = useState<string | null>(null)
  const [quantity, setQuantity] = useState(1)
  const [direction, setDirection] = useState<1 | -1>(-1)
  const [reason, setReason] = useState('')
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const location = chosen ?? fallback
  const to = toLocation ?? locations.find((l) => l.id !== location)?.id ?? ''
  const expected = store.inventory.onHand(item.id, location)

  if (locations.length === 0) return <p className="muted">Create a location first (+ on the Items screen).</p>

  const submit = (e: FormEvent) => {
    e.preventDefault()
    try {
      let text: string
      switch (action) {
        case 'receive':
          store.receive(item.id, location, quantity)
          text = `Received ${quantity}`
          break
        case 'pick':
          store.pick(item.id, location, quantity)
          text = `Picked ${quantity}`
          break
        case 'adjust':
          if (reason.trim() === '') throw new InventoryError('invalid-input', 'an adjustment needs a reason')
          store.adjust(item.id, location, direction * quantity, reason.trim())
          text = `Adjusted ${direction > 0 ? '+' : '−'}${quantity}`
          break
        case 'count':
          store.count(item.id, location, quantity)
          text = `Counted ${quantity}`
          break
        case 'transfer':
          store.transfer(item.id, location, to, quantity)
          text = `Transferred ${quantity}`
          break
      }
      updateSettings({ location })
      feedback.success()
      setResult({ ok: true, text: `${text} · now ${store.inventory.onHand(item.id)} ${item.unit}` })
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      feedback.failure()
      setResult({ ok: false, text: err.message })
    }
  }

  const verb = ACTIONS.find((a) => a.id === action)?.label ?? ''
  return (
    <section className="actions" aria-label="Stock actions">
      <div className="segmented" role="tablist">
        {ACTIONS.map((a) => (
          <button
            key={a.id}
            type="button"
            role="tab"
            aria-selected={action === a.id}
            className={action === a.id ? 'active' : ''}
            onClick={() => {
              setAction(a.id)
              setResult(null)
              if (a.id === 'count') setQuantity(Math.max(0, expected))
              else setQuantity(1)
            }}
          >
            {a.label}
          </button>
        ))}
      </div>
      <form className="stack" onSubmit={submit}>
        <label>
          {action === 'transfer' ? 'From' : 'Location'}
          <select value={location} onChange={(e) => setChosen(e.target.value)}>
            {locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name} ({store.inventory.onHand(item.id, l.id)})
              </option>
            ))}
          </select>
        </label>
        {action === 'transfer' && (
          <label>
            To
            <select value={to} onChange={(e) => setToLocation(e.target.value)}>
              {locations
                .filter((l) => l.id !== location)
                .map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
            </select>
          </label>
        )}
        {action === 'adjust' && (
          <div className="segmented small" role="group" aria-label="Direction">
            <button type="button" className={direction < 0 ? 'active' : ''} onClick={() => setDirection(-1)}>
              Remove
            </button>
            <button type="button" className={direction > 0 ? 'active' : ''} onClick={() => setDirection(1)}>
              Add
            </button>
          </div>
        )}
        {action === 'count' && <p className="muted small">This device shows {expected} here.</p>}
        <QuantityInput value={quantity} onChange={setQuantity} min={action === 'count' ? 0 : 1} label={action === 'count' ? 'Counted' : 'Quantity'} />
        {action === 'adjust' && (
          <label>
            Reason (required)
            <input list="adjust-reasons" required value={reason} onChange={(e) => setReason(e.target.value)} />
            <datalist id="adjust-reasons">
              {REASONS.map((r) => (
                <option key={r} value={r} />
              ))}
            </datalist>
          </label>
        )}
        <button type="submit" className="primary huge">
          {action === 'adjust' ? `${direction > 0 ? 'Add' : 'Remove'} ${quantity}` : `${verb} ${quantity}`}
        </button>
        {result && (
          <p className={result.ok ? 'ok-text' : 'error'} role="status" data-testid="action-result">
            {result.text}
          </p>
        )}
      </form>
    </section>
  )
}
