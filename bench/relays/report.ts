/** Tables, ratios and target verdicts of the relay benchmark, as text and as Markdown. */
import type { RunResult, Scenario } from './scenarios.js'
import type { ServerKind } from './wire.js'

export const median = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2
}

const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–')
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–')

interface Column {
  readonly label: string
  readonly get: (r: RunResult) => number
  readonly digits: number
}

const LOAD_COLUMNS: readonly Column[] = [
  { label: 'accepted updates/s', get: (r) => r.acceptedPerSecond, digits: 0 },
  { label: 'fan-out p50 (ms)', get: (r) => r.latency?.p50 ?? NaN, digits: 1 },
  { label: 'p95 (ms)', get: (r) => r.latency?.p95 ?? NaN, digits: 1 },
  { label: 'p99 (ms)', get: (r) => r.latency?.p99 ?? NaN, digits: 1 },
  { label: 'max (ms)', get: (r) => r.latency?.max ?? NaN, digits: 0 },
  { label: 'server CPU (s)', get: (r) => r.serverCpuSeconds, digits: 2 },
  { label: 'server CPU per update (µs)', get: (r) => r.serverCpuUsPerUpdate, digits: 0 },
  { label: 'server peak RSS (MB)', get: (r) => r.peakRssMB, digits: 0 },
  { label: 'generator CPU (s)', get: (r) => r.generatorCpuSeconds, digits: 1 },
  { label: 'generator event-loop use', get: (r) => r.generatorElu, digits: 2 },
]

const STORM_COLUMNS: readonly Column[] = [
  { label: 'resynced after restart (s)', get: (r) => r.extra.resyncSeconds ?? NaN, digits: 2 },
  { label: 'after the kill (s)', get: (r) => r.extra.fromKillSeconds ?? NaN, digits: 2 },
  { label: 'restart to listening (s)', get: (r) => r.extra.restartSeconds ?? NaN, digits: 2 },
  { label: 'offline movements', get: (r) => r.extra.offlineMovements ?? NaN, digits: 0 },
  { label: 'server CPU (s)', get: (r) => r.serverCpuSeconds, digits: 2 },
  { label: 'server peak RSS (MB)', get: (r) => r.peakRssMB, digits: 0 },
  { label: 'generator CPU (s)', get: (r) => r.generatorCpuSeconds, digits: 1 },
]

const COLD_COLUMNS: readonly Column[] = [
  { label: 'first client synced (ms)', get: (r) => r.extra.firstSyncMs ?? NaN, digits: 0 },
  { label: 'second client (ms)', get: (r) => r.extra.secondSyncMs ?? NaN, digits: 0 },
  { label: 'upload first (ms)', get: (r) => r.extra.uploadMs ?? NaN, digits: 0 },
  { label: 'client applies it (ms)', get: (r) => r.extra.clientApplyMs ?? NaN, digits: 0 },
  { label: 'server CPU, first load (s)', get: (r) => r.serverCpuSeconds, digits: 2 },
  { label: 'server RSS after it (MB)', get: (r) => r.extra.rssAfterLoadMB ?? NaN, digits: 0 },
  { label: 'server peak RSS (MB)', get: (r) => r.peakRssMB, digits: 0 },
]

const columnsOf = (s: Scenario): readonly Column[] => (s.kind === 'load' ? LOAD_COLUMNS : s.kind === 'storm' ? STORM_COLUMNS : COLD_COLUMNS)

const runsOf = (results: readonly RunResult[], scenario: string, server: ServerKind) => results.filter((r) => r.scenario === scenario && r.server === server)

/** Per repetition, a / b of a metric (a = Quartermaster, b = the reference server). */
const ratiosPerRep = (results: readonly RunResult[], scenario: string, a: ServerKind, b: ServerKind, get: (r: RunResult) => number): number[] => {
  const reps = [...new Set(results.filter((r) => r.scenario === scenario).map((r) => r.rep))].sort((x, y) => x - y)
  return reps.map((rep) => {
    const ra = results.find((r) => r.scenario === scenario && r.server === a && r.rep === rep)
    const rb = results.find((r) => r.scenario === scenario && r.server === b && r.rep === rep)
    return ra && rb ? get(ra) / get(rb) : NaN
  })
}

export interface Verdict {
  readonly target: string
  readonly scenario: string
  readonly perRep: readonly number[]
  readonly median: number
  readonly limit: string
  readonly met: boolean | null
}

export const verdicts = (servers: readonly ServerKind[], results: readonly RunResult[]): Verdict[] => {
  const out: Verdict[] = []
  const has = (k: ServerKind) => servers.includes(k)
  const qm: ServerKind = 'quartermaster'
  const add = (target: string, scenario: string, b: ServerKind, get: (r: RunResult) => number, limit: string, ok: (m: number) => boolean) => {
    if (!has(qm) || !has(b) || !results.some((r) => r.scenario === scenario)) return
    const perRep = ratiosPerRep(results, scenario, qm, b, get)
    const m = median(perRep)
    out.push({ target, scenario, perRep, median: m, limit, met: Number.isFinite(m) ? ok(m) : null })
  }
  add('accepted updates/s vs y-websocket', 'two-writers', 'y-websocket', (r) => r.acceptedPerSecond, '≥ 1.0×', (m) => m >= 1)
  add('p99 fan-out latency, presence on, vs y-websocket', 'presence', 'y-websocket', (r) => r.latency?.p99 ?? NaN, '≤ 0.5×', (m) => m <= 0.5)
  for (const s of ['two-writers', 'fifty-writers']) add('server CPU per accepted update vs y-websocket', s, 'y-websocket', (r) => r.serverCpuUsPerUpdate, '≤ 1.2×', (m) => m <= 1.2)
  for (const s of ['two-writers', 'fifty-writers', 'presence', 'many-tenants', 'storm', 'cold-load']) {
    add('peak RSS vs Hocuspocus', s, 'hocuspocus', (r) => r.peakRssMB, '≤ 1.0×', (m) => m <= 1)
  }
  const absolute = (target: string, scenario: string, get: (r: RunResult) => number, limit: string, ok: (x: number) => boolean) => {
    const runs = runsOf(results, scenario, qm)
    if (runs.length === 0) return
    const perRep = runs.map(get)
    const m = median(perRep)
    out.push({ target, scenario, perRep, median: m, limit, met: runs.every((r) => r.converged) && perRep.every((x) => Number.isFinite(x) && ok(x)) })
  }
  absolute('p99 fan-out latency (ms), 2,000 connections, 200 movements/s', 'many-tenants', (r) => r.latency?.p99 ?? NaN, '< 100 ms in every repetition', (x) => x < 100)
  absolute('fully resynced after the restart (s), nothing lost', 'storm', (r) => r.extra.resyncSeconds ?? NaN, '< 10 s in every repetition', (x) => x < 10)
  return out
}

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const md = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')

/** Rows of one scenario: one per server, each cell the median over the repetitions. */
const scenarioRows = (s: Scenario, servers: readonly ServerKind[], results: readonly RunResult[]): { header: string[]; rows: string[][] } => {
  const cols = columnsOf(s)
  const header = ['server', ...cols.map((c) => c.label), 'converged']
  const rows = servers.map((k) => {
    const runs = runsOf(results, s.id, k)
    const limited = runs.filter((r) => r.generatorLimited).length
    return [
      k + (limited > 0 ? ` (generator-limited in ${limited}/${runs.length})` : ''),
      ...cols.map((c) => fmt(median(runs.map(c.get)), c.digits)),
      `${runs.filter((r) => r.converged).length}/${runs.length}`,
    ]
  })
  return { header, rows }
}

const perRepRows = (s: Scenario, servers: readonly ServerKind[], results: readonly RunResult[]): { header: string[]; rows: string[][] } => {
  const cols = columnsOf(s).slice(0, s.kind === 'load' ? 4 : 1).concat(columnsOf(s).filter((c) => c.label.includes('peak RSS') || c.label === 'server CPU per update (µs)'))
  const header = ['rep', 'order', 'server', ...cols.map((c) => c.label)]
  const rows = results
    .filter((r) => r.scenario === s.id && servers.includes(r.server))
    .sort((a, b) => a.rep - b.rep || a.position - b.position)
    .map((r) => [String(r.rep + 1), String(r.position + 1), r.server, ...cols.map((c) => fmt(c.get(r), c.digits))])
  return { header, rows }
}

export const printReport = (scenarios: readonly Scenario[], servers: readonly ServerKind[], results: readonly RunResult[]): void => {
  for (const s of scenarios) {
    console.log(`\n== ${s.title} (${s.id}) — medians over repetitions`)
    const { header, rows } = scenarioRows(s, servers, results)
    console.log(table(header, rows))
  }
  console.log('\n== Targets (Quartermaster ÷ reference, per repetition)')
  console.log(
    table(
      ['target', 'scenario', 'per repetition', 'median', 'limit', 'met'],
      verdicts(servers, results).map((v) => [v.target, v.scenario, v.perRep.map((x) => (v.target.includes('(') ? fmt(x, 2) : ratio(x))).join(' '), v.target.includes('(') ? fmt(v.median, 2) : ratio(v.median), v.limit, v.met === null ? '–' : v.met ? 'met' : 'MISSED']),
    ),
  )
}

export const markdownReport = (scenarios: readonly Scenario[], servers: readonly ServerKind[], results: readonly RunResult[], meta: Record<string, unknown>): string => {
  const parts: string[] = [`<!-- generated by npm run bench: ${JSON.stringify(meta)} -->`]
  for (const s of scenarios) {
    parts.push(`#### ${s.title}`)
    const { header, rows } = scenarioRows(s, servers, results)
    parts.push(md(header, rows))
    const perRep = perRepRows(s, servers, results)
    parts.push('<details><summary>per repetition</summary>\n\n' + md(perRep.header, perRep.rows) + '\n\n</details>')
  }
  parts.push('#### Targets')
  parts.push(
    md(
      ['target', 'scenario', 'per repetition', 'median', 'limit', 'met?'],
      verdicts(servers, results).map((v) => {
        const absolute = v.target.includes('(')
        const show = (x: number) => (absolute ? fmt(x, 2) : ratio(x))
        return [v.target, v.scenario, v.perRep.map(show).join(', '), show(v.median), v.limit, v.met === null ? '–' : v.met ? 'met' : '**missed**']
      }),
    ),
  )
  return parts.join('\n\n') + '\n'
}
