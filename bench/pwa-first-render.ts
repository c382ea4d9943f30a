/**
 * pwa-first-render: with 10,000 items and 100,000 movements on the device (IndexedDB), how long
 * does the warehouse app take, offline, from navigation to the first render of the inventory list?
 *
 * 1. The tenant document is bench/doc-scale's realistic fixture (10,000 items, 100,000 movements by
 *    10 devices; bench/out/fixtures/tenant-100000.v1.bin, built by doc-scale if it is missing). It is
 *    stored as the tenant's document on a real server (SQLite, port 0) serving the built app.
 * 2. Chromium (Debian's, through playwright-core) with a fresh profile signs in online: the app
 *    downloads the document (with progress), keeps it in y-indexeddb and its list rows in Dexie,
 *    and syncs. That first download is timed too.
 * 3. Offline from then on, the app is opened RUNS times each way:
 *    - reload: page.reload() in the running browser;
 *    - cold: the browser is closed and started again on the same profile, already offline, and the
 *      app is opened by URL (service worker, IndexedDB and every cache start cold).
 *    Each opening reads the app's performance marks: `qm:list-rendered` (the list's first commit
 *    with rows, client/app/screens/ItemList.tsx), `qm:list-painted` (the next animation frame),
 *    `qm:doc-ready` (the whole document loaded and indexed: stock actions possible).
 *
 * Run: npm run bench:pwa-first-render   (needs `npm run build:client` and /usr/bin/chromium)
 * Environment: PWA_BENCH_RUNS (default 5), CHROMIUM_PATH.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import * as Y from 'yjs'
import { CHROMIUM_ARGS, CHROMIUM_PATH, CLIENT_DIST } from '../test/support/browser.js'
import { PASSWORD, startTestServer } from '../test/support/server.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const FIXTURE = join(repo, 'bench', 'out', 'fixtures', 'tenant-100000.v1.bin')
const RUNS = Number(process.env.PWA_BENCH_RUNS ?? 5)

interface Opening {
  /** The app's script has run (DOMContentLoaded ended): the service worker and the bundle are behind. */
  readonly scriptsMs: number
  readonly cacheShownMs: number
  readonly docLoadedMs: number
  readonly indexBuiltMs: number
  readonly listRenderedMs: number
  readonly listPaintedMs: number
  readonly docReadyMs: number
  readonly rows: number
  readonly source: string
}

const fixture = (): Uint8Array => {
  if (!existsSync(FIXTURE)) {
    console.log('building the doc-scale fixture (about 1-2 minutes)…')
    execFileSync(process.execPath, ['--import', 'tsx', join(repo, 'bench', 'doc-scale.ts')], {
      cwd: repo,
      stdio: 'inherit',
      env: { ...process.env, DOC_SCALE_SAVE: join(repo, 'bench', 'out', 'fixtures'), DOC_SCALE_BUILD_ONLY: '1' },
    })
  }
  return new Uint8Array(readFileSync(FIXTURE))
}

const launch = (profile: string, offline: boolean): Promise<BrowserContext> =>
  chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    serviceWorkers: 'allow',
    offline,
    viewport: { width: 412, height: 860 },
  })

/** Waits for the list's marks and reads them (ms since the navigation started). */
const readMarks = async (page: Page): Promise<Opening> => {
  await page.waitForFunction(() => performance.getEntriesByName('qm:doc-ready').length > 0 && performance.getEntriesByName('qm:list-painted').length > 0, undefined, {
    timeout: 120_000,
    polling: 100,
  })
  // A string, not a function: tsx would wrap a function's inner helpers in its own __name().
  return page.evaluate<Opening>(`(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN
    const detail = performance.getEntriesByName('qm:list-rendered')[0]?.detail ?? {}
    return {
      scriptsMs: Math.round(performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? NaN),
      cacheShownMs: Math.round(at('qm:cache-shown')),
      docLoadedMs: Math.round(at('qm:doc-loaded')),
      indexBuiltMs: Math.round(at('qm:index-built')),
      listRenderedMs: Math.round(at('qm:list-rendered')),
      listPaintedMs: Math.round(at('qm:list-painted')),
      docReadyMs: Math.round(at('qm:doc-ready')),
      rows: detail.rows ?? 0,
      source: detail.source ?? '?',
    }
  })()`)
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

const main = async (): Promise<void> => {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}`)
  if (!existsSync(join(CLIENT_DIST, 'sw.js'))) throw new Error('the app is not built: npm run build:client')
  const update = fixture()
  const check = new Y.Doc()
  Y.applyUpdate(check, update)
  const items = check.getMap('items').size
  const movements = check.getArray('movements').length
  check.destroy()
  console.log(`fixture: ${items} items, ${movements} movements, ${(update.byteLength / 1024 / 1024).toFixed(1)} MB`)

  const t = await startTestServer({ storage: 'sqlite', clientDir: CLIENT_DIST })
  await t.storage.appendUpdate('acme', update)
  const profile = mkdtempSync(join(tmpdir(), 'qm-bench-profile-'))
  const loadBefore = loadavg()
  const reloads: Opening[] = []
  const colds: Opening[] = []
  let firstDownloadMs = NaN
  try {
    // First start, online: sign in, download, sync.
    let context = await launch(profile, false)
    let page = context.pages()[0] ?? (await context.newPage())
    await page.goto(t.server.url)
    await page.getByLabel('Warehouse').fill('acme')
    await page.getByLabel('User name').fill('ed')
    await page.getByLabel('Password').fill(PASSWORD)
    const started = Date.now()
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForFunction(() => document.querySelector('[data-testid="list-count"]')?.textContent?.startsWith('10,000 of 10,000'), undefined, { timeout: 300_000 })
    await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.textContent === 'All changes saved', undefined, { timeout: 300_000 })
    firstDownloadMs = Date.now() - started
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready
    })
    // Let y-indexeddb and the list cache finish writing before the device goes offline.
    await page.waitForTimeout(5000)
    console.log(`first sign-in and download: ${(firstDownloadMs / 1000).toFixed(1)} s`)

    await context.setOffline(true)
    for (let i = 0; i < RUNS; i++) {
      await page.reload()
      reloads.push(await readMarks(page))
      console.log(`reload ${i + 1}: ${JSON.stringify(reloads[reloads.length - 1])}`)
    }
    await context.close()

    for (let i = 0; i < RUNS; i++) {
      context = await launch(profile, true)
      page = context.pages()[0] ?? (await context.newPage())
      await page.goto(t.server.url)
      colds.push(await readMarks(page))
      console.log(`cold ${i + 1}: ${JSON.stringify(colds[colds.length - 1])}`)
      const count = await page.getByTestId('list-count').textContent()
      if (!count?.startsWith('10,000 of 10,000')) throw new Error(`the list shows ${count}`)
      await context.close()
    }
  } finally {
    await t.stop()
    rmSync(profile, { recursive: true, force: true })
  }

  const summary = (xs: Opening[]) => ({
    listRenderedMs: median(xs.map((x) => x.listRenderedMs)),
    listPaintedMs: median(xs.map((x) => x.listPaintedMs)),
    docReadyMs: median(xs.map((x) => x.docReadyMs)),
    maxListPaintedMs: Math.max(...xs.map((x) => x.listPaintedMs)),
  })
  const chromiumVersion = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim()
  console.log(
    JSON.stringify({
      bench: 'pwa-first-render',
      chromium: chromiumVersion,
      node: process.version,
      cpus: cpus().length,
      fixture: { items, movements, bytes: update.byteLength },
      firstDownloadMs,
      reload: summary(reloads),
      cold: summary(colds),
      runs: { reload: reloads, cold: colds },
      loadavg: { before: loadBefore, after: loadavg() },
    }),
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
