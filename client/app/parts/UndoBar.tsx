/** After a stock action: what was done, and a big Undo (a new compensating movement, never an edit). */
import { useState } from 'react'
import { InventoryError } from '../../../sync/inventory.js'
import { useListVersion, useStore } from '../hooks.js'

export function UndoBar() {
  const store = useStore()
  useListVersion()
  const [message, setMessage] = useState<string | null>(null)
  const last = store.lastAction
  if (!store.canUndoLast() || !last) return message ? <div className="undo-bar"><span>{message}</span></div> : null
  const sku = store.list.row(last.item)?.sku ?? ''
  const undo = () => {
    try {
      store.undoLast()
      setMessage(`Undone: ${last.label} ${sku}`)
      setTimeout(() => setMessage(null), 4000)
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err
      setMessage(err.message)
    }
  }
  return (
    <div className="undo-bar" data-testid="undo-bar">
      <span>
        Last: {last.label} × {sku}
      </span>
      <button type="button" className="big" onClick={undo}>
        Undo
      </button>
    </div>
  )
}
