/**
 * The latency chart of bench/RESULTS.md, as a hand-written SVG: one group per load scenario, one
 * cluster of bars per server (p50, p95, p99: medians over the repetitions), on a log scale.
 */
import { median } from './report.js'
import type { RunResult, Scenario } from './scenarios.js'
import type { ServerKind } from './wire.js'

const COLORS: Record<ServerKind, readonly [string, string, string]> = {
  quartermaster: ['#9ecae1', '#4292c6', '#08519c'],
  'y-websocket': ['#fdae6b', '#f16913', '#a63603'],
  hocuspocus: ['#a1d99b', '#41ab5d', '#006d2c'],
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export const latencyChart = (scenarios: readonly Scenario[], servers: readonly ServerKind[], results: readonly RunResult[]): string => {
  const load = scenarios.filter((s) => s.kind === 'load')
  const bar = 14
  const gap = 10
  const groupGap = 46
  const clusterW = 3 * bar
  const groupW = servers.length * clusterW + (servers.length - 1) * gap
  const left = 64
  const top = 48
  const plotH = 300
  const width = left + load.length * groupW + (load.length - 1) * groupGap + 40
  const height = top + plotH + 110
  // Log scale from 0.1 ms to the next power of ten above the largest p99.
  const values = results.flatMap((r) => (r.latency ? [r.latency.p50, r.latency.p95, r.latency.p99] : [])).filter((x) => Number.isFinite(x) && x > 0)
  const lo = 0.1
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...values)))
  const y = (ms: number) => top + plotH - ((Math.log10(Math.max(lo, ms)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`)
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">Fan-out latency (edit → every other client has it), ms, log scale</text>`)
  out.push(`<text x="${left}" y="36" fill="#555">bars: p50 · p95 · p99, medians over repetitions (npm run bench)</text>`)
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const v = 10 ** e
    const yy = y(v).toFixed(1)
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`)
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v.toFixed(0) : v.toFixed(1)}</text>`)
  }
  load.forEach((s, gi) => {
    const gx = left + gi * (groupW + groupGap)
    servers.forEach((k, si) => {
      const runs = results.filter((r) => r.scenario === s.id && r.server === k && r.latency)
      const p = [50, 95, 99].map((q) => median(runs.map((r) => (q === 50 ? r.latency?.p50 : q === 95 ? r.latency?.p95 : r.latency?.p99) ?? NaN)))
      p.forEach((ms, pi) => {
        if (!Number.isFinite(ms)) return
        const x = gx + si * (clusterW + gap) + pi * bar
        const yy = y(ms)
        out.push(`<rect x="${x}" y="${yy.toFixed(1)}" width="${bar - 1}" height="${(top + plotH - yy).toFixed(1)}" fill="${COLORS[k][pi]}"><title>${esc(`${k} ${s.id} p${[50, 95, 99][pi]}: ${ms.toFixed(1)} ms`)}</title></rect>`)
      })
      const p99 = p[2] ?? NaN
      if (Number.isFinite(p99)) {
        out.push(`<text x="${gx + si * (clusterW + gap) + clusterW / 2}" y="${(y(p99) - 4).toFixed(1)}" text-anchor="middle" font-size="9">${p99 >= 10 ? p99.toFixed(0) : p99.toFixed(1)}</text>`)
      }
    })
    const words = s.title.split(' ')
    const lines: string[] = []
    for (const w of words) {
      const last = lines[lines.length - 1]
      if (last !== undefined && (last + ' ' + w).length <= 26) lines[lines.length - 1] = `${last} ${w}`
      else lines.push(w)
    }
    lines.slice(0, 4).forEach((l, li) => out.push(`<text x="${gx + groupW / 2}" y="${top + plotH + 18 + li * 13}" text-anchor="middle">${esc(l)}</text>`))
  })
  servers.forEach((k, i) => {
    const x = left + i * 150
    const yy = height - 16
    out.push(`<rect x="${x}" y="${yy - 10}" width="10" height="10" fill="${COLORS[k][1]}"/><text x="${x + 14}" y="${yy}">${k}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
