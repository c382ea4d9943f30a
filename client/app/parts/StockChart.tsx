/** A small step chart of on-hand over time (the known movements; see client/store/history.ts). */
import type { StockPoint } from '../../store/history.js'

const W = 320
const H = 96
const PAD = 4

export function StockChart({ points }: { points: readonly StockPoint[] }) {
  const first = points[0]
  const last = points[points.length - 1]
  if (!first || !last || points.length < 2) return <p className="muted small">No movements to chart yet.</p>
  const t0 = first.at
  const t1 = Math.max(last.at, t0 + 1)
  const values = points.map((p) => p.onHand)
  const lo = Math.min(0, ...values)
  const hi = Math.max(1, ...values)
  const x = (at: number) => PAD + ((at - t0) / (t1 - t0)) * (W - 2 * PAD)
  const y = (v: number) => H - PAD - ((v - lo) / (hi - lo)) * (H - 2 * PAD)
  let d = `M${x(first.at).toFixed(1)},${y(first.onHand).toFixed(1)}`
  for (const p of points.slice(1)) {
    d += ` H${x(p.at).toFixed(1)} V${y(p.onHand).toFixed(1)}`
  }
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Stock over time, from ${first.onHand} to ${last.onHand}`}>
        {lo < 0 && <line x1={0} x2={W} y1={y(0)} y2={y(0)} className="zero" />}
        <path d={d} className="line" />
      </svg>
      <figcaption className="muted small">
        <span>{new Date(t0).toLocaleDateString()}</span>
        <span>
          max {hi} · min {lo}
        </span>
        <span>now</span>
      </figcaption>
    </figure>
  )
}
