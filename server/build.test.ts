/**
 * The bundle `npm start` runs (server/build.ts): built from the sources, it starts with plain node
 * on the embedded defaults as the sources do under tsx (first start, sign-in, sync), skips a build
 * it does not need, and one instance on SQLite never loads pg or ioredis.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WS from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { buildServer } from './build.js'

const ROOT_DIR = new URL('..', import.meta.url).pathname
/** Printed on exit: the packages the process loaded through node's CommonJS loader (pg and ioredis are CommonJS). */
const REPORT_PACKAGES = `data:text/javascript,${encodeURIComponent(
  `import { createRequire } from 'node:module'
const cache = createRequire(process.cwd() + '/').cache
process.on('exit', () => {
  const packages = new Set(Object.keys(cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean))
  process.stdout.write('QM_PACKAGES ' + JSON.stringify([...packages].sort()) + '\\n')
})`,
)}`

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)))

describe('server bundle (npm start)', () => {
  it('[BUILD-1] starts with plain node on a fresh DATA_DIR: first start, sign-in, sync; no pg or ioredis', async () => {
    // Inside the repository (test-output/ is ignored by git), so that packages resolve from node_modules.
    mkdirSync(join(ROOT_DIR, 'test-output'), { recursive: true })
    const outDir = join(mkdtempSync(join(ROOT_DIR, 'test-output', 'server-bundle-')), 'bundle')
    cleanups.push(() => rmSync(join(outDir, '..'), { recursive: true, force: true }))
    const first = await buildServer({ outDir })
    expect(first.built).toBe(true)
    expect((await buildServer({ outDir, ifNeeded: true })).built).toBe(false)

    const dataDir = mkdtempSync(join(tmpdir(), 'qm-bundle-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }
    for (const name of ['AUTH_SECRET', 'DATABASE_URL', 'REDIS_URL']) delete env[name]
    const child = spawn(process.execPath, ['--import', REPORT_PACKAGES, first.entry], { cwd: ROOT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] })
    cleanups.push(() => {
      child.kill('SIGKILL')
    })
    let output = ''
    child.stderr.on('data', (b: Buffer) => (output += b.toString()))
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bundle did not start:\n${output}`)), 30_000)
      child.stdout.on('data', (b: Buffer) => {
        output += b.toString()
        const line = /QM_LISTENING (.*)/.exec(output)
        if (line?.[1]) {
          clearTimeout(timer)
          resolve((JSON.parse(line[1]) as { port: number }).port)
        }
      })
      child.once('exit', (code) => reject(new Error(`the bundle exited with ${code}:\n${output}`)))
    })
    expect(output).toContain('(storage: sqlite in ')
    const password = /shown only once\):\n\s+(\S+)\n/.exec(output)?.[1]
    expect(password).toBeDefined()

    const base = `http://127.0.0.1:${port}`
    expect(await (await fetch(`${base}/api/health`)).json()).toMatchObject({ status: 'ok', storage: 'sqlite' })
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', username: 'admin', password }),
    })
    expect(login.status).toBe(200)
    const { token } = (await login.json()) as { token: string }

    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/sync`, 'demo', doc, {
      params: { token },
      WebSocketPolyfill: WS as unknown as typeof WebSocket,
      disableBc: true,
    })
    cleanups.push(() => provider.destroy())
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no sync:\n${output}`)), 15_000)
      provider.once('sync', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    provider.destroy()

    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
    const packages = JSON.parse(/QM_PACKAGES (.*)/.exec(output)?.[1] ?? 'null') as string[]
    expect(packages).toContain('better-sqlite3') // the report works
    expect(packages).not.toContain('pg')
    expect(packages).not.toContain('ioredis')
  })
})
