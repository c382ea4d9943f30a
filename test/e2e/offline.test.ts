/**
 * The warehouse app in real Chromium against a real server: signing in online, working offline
 * through reloads (the service worker serves the app), and coming back online without losing
 * anything; the oversold case of two offline pickers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import {
  browserSuiteAvailable,
  connection,
  copyOfApp,
  launchChromium,
  onHand,
  openItem,
  phoneContext,
  saveState,
  screenshot,
  serviceWorkerReady,
  signInPage,
  stockAction,
  watchErrors,
} from '../support/browser.js'
import { eventually, seedInventory, startTestServer } from '../support/server.js'
import type { TestServer } from '../support/server.js'

const available = browserSuiteAvailable('e2e offline')

describe.runIf(available)('offline in Chromium', () => {
  let browser: Browser
  let t: TestServer
  let app: ReturnType<typeof copyOfApp>
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  beforeEach(async () => {
    app = copyOfApp()
    t = await startTestServer({ storage: 'sqlite', clientDir: app.dir })
  })
  afterEach(async () => {
    await t.stop()
    app.remove()
  })

  it('[E2E-1] signs in online, reloads offline from the service worker, keeps offline movements through a reload, and delivers them when back online', async () => {
    const { bolts } = await seedInventory(t)
    const context = await phoneContext(browser)
    const page = await context.newPage()
    const errors = watchErrors(page)
    await signInPage(page, t.server.url, 'ed')
    await serviceWorkerReady(page)
    await expect.poll(() => saveState(page)).toBe('All changes saved')
    await screenshot(page, 'inventory')

    await context.setOffline(true)
    await expect.poll(() => connection(page)).toBe('Offline')
    await page.reload()
    await expect.poll(() => connection(page)).toBe('Offline')
    await openItem(page, 'BOLT')
    expect(await onHand(page)).toBe(10)
    await stockAction(page, 'Pick', 2)
    await stockAction(page, 'Receive', 5)
    expect(await onHand(page)).toBe(13)
    await expect.poll(() => saveState(page)).toBe('2 changes waiting')
    await screenshot(page, 'item-offline')

    await page.reload()
    await page.getByTestId('item-page').waitFor()
    expect(await onHand(page)).toBe(13)
    await expect.poll(() => saveState(page)).toBe('2 changes waiting')

    await context.setOffline(false)
    await expect.poll(() => connection(page), { timeout: 20_000 }).toBe('Online')
    await expect.poll(() => saveState(page), { timeout: 20_000 }).toBe('All changes saved')
    await eventually(async () => {
      const res = await t.api('admin', 'GET', '/items')
      const items = res.json.items as Array<{ id: string; onHand: number }>
      expect(items.find((i) => i.id === bolts)?.onHand).toBe(13)
    })
    // Someone else on another phone sees them.
    const other = await phoneContext(browser)
    const otherPage = await other.newPage()
    await signInPage(otherPage, t.server.url, 'edna')
    await openItem(otherPage, 'BOLT')
    await expect.poll(() => onHand(otherPage)).toBe(13)
    expect(errors).toEqual([])
    await other.close()
    await context.close()
  })
})
