/**
 * The three relays as child processes, and what /proc says about them.
 *
 * - Quartermaster: `node dist/server-bundle/main.js`, the bundle `npm start` builds (server/build.ts,
 *   rebuilt here when older than its sources) and runs with plain node, on SQLite in a fresh
 *   temporary DATA_DIR, authentication on (a fixed AUTH_SECRET; tokens minted with issueTokens),
 *   validation and durable storage on as always, and the per-connection limits raised so that they
 *   do not throttle the load (listed in QM_BENCH_ENV).
 * - y-websocket: the stock server from its own bin, `node node_modules/@y/websocket-server/src/server.js`
 *   (HOST, PORT), in memory (no YPERSISTENCE).
 * - Hocuspocus: a bare `Server` with no extensions (bench/relays/hocuspocus-server.mjs), in memory.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { issueTokens } from '../../server/auth/tokens.js'
import { buildServer } from '../../server/build.js'
import { openSqliteStorage } from '../../server/storage/sqlite.js'
import type { Role } from '../../sync/origin.js'
import type { ServerKind } from './wire.js'

const ROOT_DIR = new URL('../..', import.meta.url).pathname
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'

/** Limits raised for the benchmark, so that a rate or connection limit never throttles the load. */
export const QM_BENCH_ENV: Record<string, string> = {
  MAX_UPDATES_PER_SECOND: '1000000',
  UPDATE_BURST: '1000000',
  MAX_CONNECTIONS_PER_USER: '100000',
  MAX_FRAME_BYTES: String(64 * 1024 * 1024),
}

const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

export interface ProcSample {
  /** user + system CPU seconds since the process started */
  readonly cpuSeconds: number
  readonly rssMB: number
  /** peak RSS since the process started (VmHWM) */
  readonly peakRssMB: number
}

export const readProc = (pid: number): ProcSample => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { cpuSeconds, rssMB: kb('VmRSS') / 1024, peakRssMB: kb('VmHWM') / 1024 }
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      const port = typeof address === 'object' && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })

/** A user of a Quartermaster tenant: its id (the `by` of its movements) and an access token. */
export interface BenchUser {
  readonly id: string
  readonly token: string | null
}

/** Who connects to which tenant: created in the store before Quartermaster starts. */
export interface TenantPlan {
  readonly tenant: string
  readonly users: ReadonlyArray<{ readonly username: string; readonly role: Role }>
}

export interface Relay {
  readonly kind: ServerKind
  readonly port: number
  pid(): number
  proc(): ProcSample
  user(tenant: string, username: string): BenchUser
  /** SIGKILL, then start again on the same port (and, for Quartermaster, the same data). */
  restart(): Promise<{ killedAt: number; listeningAt: number }>
  kill(): Promise<void>
  /** Starts the process again after kill() (same port, same data); resolves when it listens (performance.now()). */
  relaunch(): Promise<number>
  stop(): Promise<void>
  readonly output: string[]
}

const waitForLine = (child: ChildProcess, pattern: RegExp, output: string[], what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output.join('')}`)), 60_000)
    const onData = (b: Buffer) => {
      output.push(b.toString())
      if (output.length > 200) output.splice(0, 100)
      if (pattern.test(b.toString())) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stdout?.on('data', (more: Buffer) => {
          output.push(more.toString())
          if (output.length > 200) output.splice(0, 100)
        })
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (b: Buffer) => {
      output.push(b.toString())
      if (output.length > 200) output.splice(0, 100)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with ${code}:\n${output.join('')}`))
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))

export interface StartOptions {
  readonly tenants: readonly TenantPlan[]
  /** Quartermaster only: documents written into the store before it starts (tenant → update). */
  readonly stored?: ReadonlyMap<string, Uint8Array>
}

export const startRelay = async (kind: ServerKind, options: StartOptions): Promise<Relay> => {
  const port = await freePort()
  const output: string[] = []
  const users = new Map<string, BenchUser>()
  let dataDir: string | null = null
  if (kind === 'quartermaster') {
    dataDir = mkdtempSync(join(tmpdir(), 'qm-bench-'))
    const storage = openSqliteStorage(dataDir)
    const issuedAt = Date.now()
    for (const plan of options.tenants) {
      await storage.createTenant({ id: plan.tenant, name: plan.tenant })
      for (const u of plan.users) {
        // Nobody signs in with a password here: connections use minted tokens.
        const record = await storage.createUser({ tenant: plan.tenant, username: u.username, name: u.username, role: u.role, passwordHash: 'scrypt$bench$not-a-password' })
        const { token } = await issueTokens(BENCH_SECRET, record, issuedAt, { accessSeconds: 4 * 3600, refreshSeconds: 8 * 3600 })
        users.set(`${plan.tenant}/${u.username}`, { id: record.id, token })
      }
      const stored = options.stored?.get(plan.tenant)
      if (stored) await storage.appendUpdate(plan.tenant, stored)
    }
    await storage.close()
  }

  // What `npm start` runs: the same build step, then the bundle with plain node.
  const entry = kind === 'quartermaster' ? (await buildServer({ ifNeeded: true })).entry : ''
  let child: ChildProcess
  const launch = async (): Promise<number> => {
    if (kind === 'quartermaster') {
      // BENCH_QM_NODE_OPTIONS: extra flags for Quartermaster's node (e.g. --cpu-prof), to find what limits it.
      const extra = (process.env.BENCH_QM_NODE_OPTIONS ?? '').split(' ').filter(Boolean)
      child = spawn(process.execPath, [...extra, entry], {
        cwd: ROOT_DIR,
        env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir ?? '', AUTH_SECRET: BENCH_SECRET, ...QM_BENCH_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      await waitForLine(child, /QM_LISTENING/, output, 'Quartermaster')
    } else if (kind === 'y-websocket') {
      child = spawn(process.execPath, ['node_modules/@y/websocket-server/src/server.js'], {
        cwd: ROOT_DIR,
        env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      await waitForLine(child, /running at/, output, 'y-websocket')
    } else {
      child = spawn(process.execPath, ['bench/relays/hocuspocus-server.mjs'], {
        cwd: ROOT_DIR,
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      await waitForLine(child, /BENCH_LISTENING/, output, 'Hocuspocus')
    }
    return performance.now()
  }
  await launch()

  const kill = async () => {
    child.kill('SIGKILL')
    await exited(child)
  }
  return {
    kind,
    port,
    output,
    pid: () => child.pid ?? -1,
    proc: () => readProc(child.pid ?? -1),
    user: (tenant, username) => users.get(`${tenant}/${username}`) ?? { id: `${tenant}-${username}`, token: null },
    restart: async () => {
      const killedAt = performance.now()
      await kill()
      const listeningAt = await launch()
      return { killedAt, listeningAt }
    },
    kill,
    relaunch: launch,
    stop: async () => {
      // SIGTERM first (so that a --cpu-prof profile gets written), SIGKILL if it lingers.
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited(child)
      clearTimeout(timer)
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
