/**
 * `npm run bench`: Quartermaster against the stock y-websocket server and a bare Hocuspocus, on the
 * same workloads, side by side in one run. Each repetition runs every scenario on every server,
 * and the order of the servers rotates from one repetition to the next. Every run checks
 * convergence and the process exits non-zero if any run did not converge.
 *
 * Prints a table per scenario with medians, the per-repetition ratios against the targets, and one
 * JSON line per run; writes bench/out/relays-<date>.json, bench/out/relays.md (the tables as
 * Markdown, for bench/RESULTS.md) and the chart bench/relays-latency.svg.
 *
 * Environment:
 *   BENCH_REPS=n          repetitions (default 3)
 *   BENCH_ONLY=a,b        only these scenarios (ids below)
 *   BENCH_SERVERS=a,b     only these servers (quartermaster, y-websocket, hocuspocus)
 *   BENCH_QUICK=1         short windows, for trying the harness (figures not comparable)
 *
 * bench/RESULTS.md says how to read the figures; bench/relays/*.ts hold the parts.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { latencyChart } from './relays/chart.js'
import { markdownReport, printReport } from './relays/report.js'
import { runCold, runLoad, runStorm } from './relays/scenarios.js'
import type { RunResult, Scenario } from './relays/scenarios.js'
import { SERVER_KINDS } from './relays/wire.js'
import type { ServerKind } from './relays/wire.js'

const quick = process.env.BENCH_QUICK === '1'
const secs = (n: number) => (quick ? Math.max(3, Math.round(n / 4)) : n)

export const SCENARIOS: readonly Scenario[] = [
  { kind: 'load', id: 'two-writers', title: '2 writers as fast as possible', tenants: 1, writersPerTenant: 2, observersPerTenant: 2, rate: 0, window: 16, presence: false, items: 100, locations: 3, warmupSeconds: 2, seconds: secs(15) },
  { kind: 'load', id: 'fifty-writers', title: '50 writers at 5 movements/s each', tenants: 1, writersPerTenant: 50, observersPerTenant: 20, rate: 5, window: 0, presence: false, items: 100, locations: 3, warmupSeconds: 2, seconds: secs(15) },
  { kind: 'load', id: 'presence', title: '200 idle devices + 5 writers (5 movements/s each), presence on', tenants: 1, writersPerTenant: 5, observersPerTenant: 200, rate: 5, window: 0, presence: true, items: 100, locations: 3, warmupSeconds: 2, seconds: secs(36) },
  { kind: 'load', id: 'many-tenants', title: '2,000 connections across 100 tenants, 200 movements/s in total', tenants: 100, writersPerTenant: 2, observersPerTenant: 18, rate: 1, window: 0, presence: false, items: 50, locations: 3, warmupSeconds: 3, seconds: secs(20) },
  { kind: 'storm', id: 'storm', title: 'reconnect storm: 1,000 clients after a server restart', tenants: 10, clientsPerTenant: 100, items: 20, locations: 2 },
  { kind: 'cold', id: 'cold-load', title: 'cold load of a tenant with 10,000 items and 100,000 movements', fixture: 'tenant-100000.v1.bin' },
]

const list = (name: string): string[] | null => {
  const v = process.env[name]
  return v ? v.split(',').map((x) => x.trim()).filter(Boolean) : null
}

const main = async (): Promise<void> => {
  const reps = Number(process.env.BENCH_REPS ?? 3)
  if (!Number.isSafeInteger(reps) || reps < 1 || reps > 20) throw new Error(`BENCH_REPS must be 1–20 (got ${process.env.BENCH_REPS})`)
  const only = list('BENCH_ONLY')
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id))
  const servers = (list('BENCH_SERVERS') ?? SERVER_KINDS) as ServerKind[]
  const started = new Date()
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadBefore: loadavg().map((x) => +x.toFixed(2)),
  }
  console.log(`relay benchmark: ${scenarios.length} scenarios × ${servers.length} servers × ${reps} repetitions${quick ? ' (QUICK: not comparable)' : ''}`)
  console.log(`machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGB} GB, Node ${machine.node}, load average ${machine.loadBefore.join(' ')}`)
  const results: RunResult[] = []
  for (let rep = 0; rep < reps; rep++) {
    // Rotate who goes first: repetition r starts with server r (mod n).
    const order = servers.map((_, i) => servers[(i + rep) % servers.length] as ServerKind)
    for (const s of scenarios) {
      for (const [position, kind] of order.entries()) {
        const t0 = Date.now()
        process.stdout.write(`rep ${rep + 1}/${reps} ${s.id} ${kind} (load ${loadavg()[0]?.toFixed(2)}) … `)
        const r = s.kind === 'load' ? await runLoad(s, kind, rep, position) : s.kind === 'storm' ? await runStorm(s, kind, rep, position) : await runCold(s, kind, rep, position)
        results.push(r)
        console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s${r.converged ? '' : ' NOT CONVERGED'}`)
        if (!r.converged) for (const p of r.problems) console.error(`    ${p}`)
        console.log(`BENCH_RESULT ${JSON.stringify(r)}`)
      }
    }
  }
  const finished = new Date()
  const meta = { ...machine, loadAfter: loadavg().map((x) => +x.toFixed(2)), started: started.toISOString(), finished: finished.toISOString(), reps, quick, servers }
  printReport(scenarios, servers, results)
  const outDir = new URL('./out/', import.meta.url).pathname
  mkdirSync(outDir, { recursive: true })
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  writeFileSync(`${outDir}relays-${stamp}.json`, JSON.stringify({ meta, results }, null, 1))
  writeFileSync(`${outDir}relays.md`, markdownReport(scenarios, servers, results, meta))
  if (!quick) writeFileSync(new URL('./relays-latency.svg', import.meta.url).pathname, latencyChart(scenarios, servers, results))
  else writeFileSync(`${outDir}relays-latency.svg`, latencyChart(scenarios, servers, results))
  console.log(`\nwrote bench/out/relays-${stamp}.json, bench/out/relays.md${quick ? ', bench/out/relays-latency.svg' : ', bench/relays-latency.svg'}`)
  const failed = results.filter((r) => !r.converged)
  if (failed.length > 0) {
    console.error(`\n${failed.length} runs did NOT converge:`)
    for (const r of failed) console.error(`  ${r.scenario} ${r.server} rep ${r.rep + 1}: ${r.problems.join('; ')}`)
    process.exitCode = 1
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
