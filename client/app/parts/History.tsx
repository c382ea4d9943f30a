/**
 * The item's movements, newest first: the document's, then older pages from the server when
 * online (kept on the device for offline reading), with a small chart of stock over time.
 */
import { useEffect, useState } from 'react'
import type { ItemView } from '../../../sync/inventory.js'
import type { Movement } from '../../../sync/schema.js'
import { StoreError } from '../../store/errors.js'
import { stockSeries } from '../../store/history.js'
import { KIND_LABEL, signed, time } from '../format.js'
import { useItemVersion, useStatus, useStore, useUserNames } from '../hooks.js'
import { StockChart } from './StockChart.js'

const PAGE = 30

export function History({ item }: { item: ItemView }) {
  const store = useStore()
  const version = useItemVersion(item.id)
  const online = useStatus().connection === 'online'
  const names = useUserNames()
  const [movements, setMovements] = useState<Movement[]>([])
  const [shown, setShown] = useState(PAGE)
  const [reload, setReload] = useState(0)
  const [serverMore, setServerMore] = useState(true)
  const [loading, setLoading] = useState(false)
  const [note, setNote] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    store.history
      .read(item.id)
      .then((m) => live && setMovements(m))
      .catch((err: unknown) => console.error('[history] could not read', err))
    return () => {
      live = false
    }
  }, [store, item.id, version, reload])

  const loadOlder = () => {
    setLoading(true)
    setNote(null)
    store.history
      .loadOlder(item.id, movements)
      .then(({ added, more }) => {
        setServerMore(more)
        setNote(added === 0 ? 'No older movements on the server.' : `${added} older movements loaded.`)
        setShown((s) => s + added)
        setReload((r) => r + 1)
      })
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setNote(err.message)
      })
      .finally(() => setLoading(false))
  }

  const locationName = (id: string) => store.inventory.location(id)?.name ?? id
  return (
    <section>
      <h2>Stock over time</h2>
      <StockChart points={stockSeries(movements, item.onHand, Date.now())} />
      <h2>History</h2>
      {movements.length === 0 && <p className="muted">No movements yet.</p>}
      <ol className="history" data-testid="history">
        {movements.slice(0, shown).map((m) => (
          <li key={m.id}>
            <span className="kind">{KIND_LABEL[m.kind] ?? m.kind}</span>
            <span className={m.delta < 0 ? 'delta negative' : 'delta'}>{signed(m.delta)}</span>
            <span className="where">{locationName(m.location)}</span>
            <span className="who muted small">
              {m.by === store.userId ? 'you' : (names.get(m.by) ?? m.by)} · {time(m.at)}
              {m.reason ? ` · ${m.reason}` : ''}
            </span>
          </li>
        ))}
      </ol>
      {shown < movements.length && (
        <button type="button" className="big" onClick={() => setShown((s) => s + PAGE)}>
          Show more
        </button>
      )}
      {shown >= movements.length && online && serverMore && (
        <button type="button" className="big" disabled={loading} onClick={loadOlder}>
          {loading ? 'Loading…' : 'Load older from the server'}
        </button>
      )}
      {note && <p className="muted small">{note}</p>}
    </section>
  )
}
