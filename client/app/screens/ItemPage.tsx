/**
 * One item: what it is, on-hand per location, who else is on it, the stock actions (editors and
 * admins), its fields (editable by editors and admins, shown read-only to viewers), a chart of
 * stock over time and its movement history.
 */
import { useEffect } from 'react'
import { useItemVersion, usePeers, useStatus, useStore } from '../hooks.js'
import { History } from '../parts/History.js'
import { ItemFields } from '../parts/ItemFields.js'
import { StatusBadge } from '../parts/StatusBadge.js'
import { StockActions } from '../parts/StockActions.js'

export function ItemPage({ id }: { id: string }) {
  const store = useStore()
  const status = useStatus()
  useItemVersion(id)
  const peers = usePeers()
  const ready = status.phase === 'ready'

  useEffect(() => {
    if (!ready) return
    store.presence?.setItem(id)
    return () => store.presence?.setItem(null)
  }, [store, id, ready])

  if (!ready) return <p className="muted centered">Opening the inventory…</p>
  const item = store.inventory.item(id)
  if (!item) return <p className="centered">There is no item {id} on this device.</p>
  const here = peers.filter((p) => p.item === id && p.clientId !== store.doc.clientID)
  const locations = Object.entries(item.byLocation)
    .map(([loc, q]) => ({ id: loc, name: store.inventory.location(loc)?.name ?? loc, q }))
    .sort((a, b) => b.q - a.q || a.name.localeCompare(b.name))

  return (
    <article className="item-page" data-testid="item-page">
      <header className="item-head">
        <div>
          <p className="sku">{item.sku}</p>
          <h1>{item.name}</h1>
          {item.barcode && <p className="muted small">Barcode {item.barcode}</p>}
        </div>
        <div className="item-total">
          <span className="big-number" data-testid="on-hand">
            {item.onHand}
          </span>
          <span className="unit">{item.unit}</span>
          <StatusBadge status={item.status} archived={item.archived} />
          {status.pending.items.has(id) && (
            <span className="waiting-mark" data-testid="waiting-mark">
              ⟳ waiting to sync
            </span>
          )}
        </div>
      </header>
      {here.length > 0 && (
        <p className="presence-here" data-testid="also-here">
          Also here: {[...new Set(here.map((p) => p.name))].join(', ')}
        </p>
      )}
      <section>
        <h2>On hand by location</h2>
        {locations.length === 0 ? (
          <p className="muted">No stock recorded anywhere yet.</p>
        ) : (
          <table className="by-location">
            <tbody>
              {locations.map((l) => (
                <tr key={l.id} data-testid="location-row">
                  <th scope="row">{l.name}</th>
                  <td className={l.q < 0 ? 'negative' : ''}>{l.q}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {!store.readOnly && <StockActions item={item} />}
      <ItemFields item={item} />
      <History item={item} />
    </article>
  )
}
