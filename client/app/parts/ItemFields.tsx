/** The item's descriptive fields: a form for editors and admins, plain text for viewers. */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { InventoryError } from '../../../sync/inventory.js'
import type { ItemPatch, ItemView } from '../../../sync/inventory.js'
import { useStore } from '../hooks.js'

interface Draft {
  sku: string
  name: string
  barcode: string
  unit: string
  reorderPoint: string
  reorderQty: string
}

const draftOf = (item: ItemView): Draft => ({
  sku: item.sku,
  name: item.name,
  barcode: item.barcode ?? '',
  unit: item.unit,
  reorderPoint: String(item.reorderPoint),
  reorderQty: String(item.reorderQty),
})

/** Only what changed; an emptied optional field is removed (undefined). */
const patchOf = (item: ItemView, d: Draft): ItemPatch => {
  const patch: Record<string, unknown> = {}
  if (d.sku.trim() !== item.sku) patch.sku = d.sku.trim()
  if (d.name.trim() !== item.name) patch.name = d.name.trim()
  if (d.barcode.trim() !== (item.barcode ?? '')) patch.barcode = d.barcode.trim() === '' ? undefined : d.barcode.trim()
  if (d.unit.trim() !== item.unit) patch.unit = d.unit.trim() === '' ? undefined : d.unit.trim()
  for (const key of ['reorderPoint', 'reorderQty'] as const) {
    const n = d[key].trim() === '' ? 0 : Number(d[key])
    if (n !== item[key]) patch[key] = n
  }
  return patch as ItemPatch
}

export function ItemFields({ item }: { item: ItemView }) {
  const store = useStore()
  const [draft, setDraft] = useState<Draft | null>(null)
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null)

  if (store.readOnly) {
    return (
      <section>
        <h2>Details</h2>
        <dl className="fields" data-testid="fields-readonly">
          <dt>SKU</dt>
          <dd>{item.sku}</dd>
          <dt>Name</dt>
          <dd>{item.name}</dd>
          <dt>Barcode</dt>
          <dd>{item.barcode ?? '—'}</dd>
          <dt>Unit</dt>
          <dd>{item.unit}</dd>
          <dt>Reorder point</dt>
          <dd>{item.reorderPoint}</dd>
          <dt>Reorder quantity</dt>
          <dd>{item.reorderQty}</dd>
        </dl>
      </section>
    )
  }

  const d = draft ?? draftOf(item)
  const set = (key: keyof Draft) => (e: { target: { value: string } }) => setDraft({ ...d, [key]: e.target.value })
  const save = (e: FormEvent) => {
    e.preventDefault()
    try {
      const patch = patchOf(item, d)
      if (Object.keys(patch).length === 0) {
        setMessage({ ok: true, text: 'Nothing changed.' })
        return
      }
      store.updateItem(item.id, patch)
      setDraft(null)
      setMessage({ ok: true, text: 'Saved on this device.' })
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      setMessage({ ok: false, text: err.message })
    }
  }
  return (
    <section>
      <h2>Details</h2>
      <form className="fields-form" onSubmit={save} aria-label="Item details">
        <label>
          SKU <input value={d.sku} onChange={set('sku')} required />
        </label>
        <label>
          Name <input value={d.name} onChange={set('name')} required />
        </label>
        <label>
          Barcode <input value={d.barcode} onChange={set('barcode')} />
        </label>
        <label>
          Unit <input value={d.unit} onChange={set('unit')} />
        </label>
        <label>
          Reorder point <input inputMode="numeric" value={d.reorderPoint} onChange={set('reorderPoint')} />
        </label>
        <label>
          Reorder quantity <input inputMode="numeric" value={d.reorderQty} onChange={set('reorderQty')} />
        </label>
        <button type="submit" className="big">
          Save details
        </button>
        {message && <p className={message.ok ? 'ok-text' : 'error'}>{message.text}</p>}
      </form>
    </section>
  )
}
