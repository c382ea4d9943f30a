/**
 * Chromium for the end-to-end suites: Debian's /usr/bin/chromium driven by playwright-core (never
 * a downloaded browser). With CI set, a missing Chromium fails the suite; elsewhere the suite says
 * so in one line and defines no tests.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { PASSWORD, startTestServer } from './server.js'
import type { TestServer } from './server.js'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const repo = fileURLToPath(new URL('../../', import.meta.url))
export const CLIENT_DIST = join(repo, 'client', 'dist')
export const SCREENSHOTS = join(repo, 'test-output', 'screenshots')

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Whether the browser suites can run here. Throws with CI set and no Chromium or no built app:
 * the suite must never be skipped in CI.
 */
export const browserSuiteAvailable = (suite: string): boolean => {
  const missing = !existsSync(CHROMIUM_PATH)
    ? `Chromium is not installed at ${CHROMIUM_PATH} (Debian: apt-get install -y chromium; .ci/run does this)`
    : !existsSync(join(CLIENT_DIST, 'index.html')) || !existsSync(join(CLIENT_DIST, 'sw.js'))
      ? 'the app is not built (npm run build:client; npm test does this)'
      : null
  if (missing === null) return true
  if (process.env.CI) throw new Error(`${suite}: ${missing}. The end-to-end suites must run in CI.`)
  console.log(`${suite}: not run: ${missing}.`)
  return false
}

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })

/** A copy of the built app the test may change (a "deploy"), removed by the returned function. */
export const copyOfApp = (): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'qm-app-'))
  cpSync(CLIENT_DIST, dir, { recursive: true })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface BrowserSuite {
  readonly browser: Browser
  /** A fresh server per test, serving its own copy of the built app. */
  readonly t: TestServer
  readonly app: { readonly dir: string; readonly remove: () => void }
}

/**
 * Registers the hooks of a browser suite (call inside its describe): one Chromium for the file, a
 * server and a copy of the app per test. The getters are valid inside tests.
 */
export const browserSuite = (options: { storage?: 'memory' | 'sqlite' } = {}): BrowserSuite => {
  let browser: Browser | null = null
  let t: TestServer | null = null
  let app: BrowserSuite['app'] | null = null
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  beforeEach(async () => {
    app = copyOfApp()
    t = await startTestServer({ clientDir: app.dir, ...(options.storage ? { storage: options.storage } : {}) })
  })
  afterEach(async () => {
    await t?.stop()
    app?.remove()
  })
  const need = <T>(v: T | null, what: string): T => {
    if (v === null) throw new Error(`${what} is only there inside a test`)
    return v
  }
  return {
    get browser() {
      return need(browser, 'the browser')
    },
    get t() {
      return need(t, 'the server')
    },
    get app() {
      return need(app, 'the app')
    },
  }
}

/** A phone-sized context: what a picker holds. */
export const phoneContext = (browser: Browser): Promise<BrowserContext> =>
  browser.newContext({ viewport: { width: 412, height: 860 }, deviceScaleFactor: 1, hasTouch: true, serviceWorkers: 'allow' })

export const screenshot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
}

/** Collects the page's errors: a test ends by expecting none. */
export const watchErrors = (page: Page): string[] => {
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(msg.text())) {
      errors.push(`console: ${msg.text()}`)
    }
  })
  return errors
}

export const signInPage = async (page: Page, url: string, username: string, tenant = 'acme'): Promise<void> => {
  await page.goto(url)
  await page.getByLabel('Warehouse').fill(tenant)
  await page.getByLabel('User name').fill(username)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await poll(() => page.getByTestId('connection').textContent(), 20_000).toBe('Online')
}

/**
 * expect.poll with room for a busy CI machine (vitest's default gives up after one second): the
 * value a person would see, checked until it holds or 15 s have passed.
 */
export const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 })

/** Waits until the service worker is active (so a reload works offline). */
export const serviceWorkerReady = async (page: Page): Promise<void> => {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
}

export const saveState = (page: Page): Promise<string | null> => page.getByTestId('save-state').textContent()
export const connection = (page: Page): Promise<string | null> => page.getByTestId('connection').textContent()
export const onHand = async (page: Page): Promise<number> => Number(await page.getByTestId('on-hand').textContent())

/** Taps a screen in the bottom bar (its name may carry a count: "Alerts 1"). */
export const goTo = (page: Page, screen: 'Items' | 'Scan' | 'Alerts' | 'Status' | 'Admin'): Promise<void> =>
  page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: new RegExp(`^${screen}`) }).click()

export const openItem = async (page: Page, sku: string): Promise<void> => {
  await goTo(page, 'Items')
  await page.getByLabel('Search').fill(sku)
  await page.locator(`[data-testid="item-row"][data-sku="${sku}"]`).click()
  await page.getByTestId('item-page').waitFor()
}

/** Runs one stock action from the item page. */
export const stockAction = async (page: Page, action: 'Receive' | 'Pick' | 'Count', quantity: number): Promise<void> => {
  await page.getByRole('tab', { name: action }).click()
  await page.getByLabel(action === 'Count' ? 'Counted' : 'Quantity', { exact: true }).fill(String(quantity))
  await page.getByRole('button', { name: `${action} ${quantity}`, exact: true }).click()
  await page.getByTestId('action-result').waitFor()
}
