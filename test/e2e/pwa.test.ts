/**
 * The app as an installed PWA in real Chromium: the manifest and service worker make it
 * installable; a deploy shows "New version available" and the reload brings the new version;
 * scanning with a keyboard-wedge scanner (keys and Enter) opens and moves stock.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { buildServiceWorker } from '../../service-worker/build.js'
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  browserSuite,
  browserSuiteAvailable,
  goTo,
  onHand,
  phoneContext,
  poll,
  screenshot,
  serviceWorkerReady,
  signInPage,
  watchErrors,
} from '../support/browser.js'
import { seedInventory } from '../support/server.js'

const available = browserSuiteAvailable('e2e pwa')

describe.runIf(available)('the PWA in Chromium', () => {
  const suite = browserSuite()

  it('[SW-1] after a deploy the open app offers "New version available"; Reload brings the new version, served by the new worker', async () => {
    await seedInventory(suite.t)
    const context = await phoneContext(suite.browser)
    const page = await context.newPage()
    await signInPage(page, suite.t.server.url, 'ed')
    await serviceWorkerReady(page)
    expect(await page.locator('meta[name="qm-deploy"]').count()).toBe(0)

    // A deploy: a changed app file, and the service worker rebuilt with the new precache list.
    const index = join(suite.app.dir, 'index.html')
    writeFileSync(index, readFileSync(index, 'utf8').replace('<head>', '<head><meta name="qm-deploy" content="2">'))
    await buildServiceWorker(suite.app.dir)

    await page.reload()
    const banner = page.getByRole('status').filter({ hasText: 'New version available' })
    await banner.waitFor({ timeout: 20_000 })
    // Until the person says so, the old version stays (the old worker still serves it).
    expect(await page.locator('meta[name="qm-deploy"]').count()).toBe(0)
    await screenshot(page, 'update-available')
    await banner.getByRole('button', { name: 'Reload' }).click()
    await page.waitForSelector('meta[name="qm-deploy"]', { state: 'attached', timeout: 20_000 })
    await context.close()
  })

  it('[SW-2] the manifest and the service worker make the app installable (no installability errors in Chromium)', async () => {
    // Chromium refuses installation in incognito-like contexts: use a real profile.
    const profile = mkdtempSync(join(tmpdir(), 'qm-profile-'))
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, serviceWorkers: 'allow' })
    try {
      const page = await context.newPage()
      await page.goto(suite.t.server.url)
      await serviceWorkerReady(page)
      const cdp = await context.newCDPSession(page)
      const manifest = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; url: string }
      expect(manifest.errors).toEqual([])
      expect(manifest.url).toBe(`${suite.t.server.url}/manifest.webmanifest`)
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: Array<{ errorId: string }> }
      expect(installabilityErrors.map((e) => e.errorId)).toEqual([])
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })

  it('[E2E-5] scan mode takes a keyboard-wedge scan (code and Enter): Open goes to the item, Pick 1 takes one at once, an unknown code says so', async () => {
    const { admin, bolts } = await seedInventory(suite.t)
    admin.inv.updateItem(bolts, { barcode: '4006381333931' })
    const context = await phoneContext(suite.browser)
    const page = await context.newPage()
    const errors = watchErrors(page)
    await signInPage(page, suite.t.server.url, 'ed')
    await goTo(page, 'Scan')
    const input = page.getByLabel('Scan or type a SKU or barcode')
    await poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true)

    await page.getByRole('button', { name: 'Pick 1' }).click()
    await poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.type('4006381333931')
    await page.keyboard.press('Enter')
    await poll(() => page.getByTestId('scan-result').textContent()).toBe('Picked 1 × BOLT · now 9')
    await page.keyboard.type('4006381333931\n')
    await poll(() => page.getByTestId('scan-result').textContent()).toBe('Picked 1 × BOLT · now 8')
    await page.keyboard.type('NO-SUCH-CODE\n')
    await poll(() => page.getByTestId('scan-result').textContent()).toContain('No item with SKU or barcode')
    await screenshot(page, 'scan')

    await page.getByRole('button', { name: 'Open' }).click()
    await page.keyboard.type('BOLT\n')
    await page.getByTestId('item-page').waitFor()
    expect(await onHand(page)).toBe(8)
    expect(errors).toEqual([])
    await context.close()
  })
})
