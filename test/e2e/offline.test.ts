/**
 * The warehouse app in real Chromium against a real server: signing in online, working offline
 * through reloads (the service worker serves the app), and coming back online without losing
 * anything; the oversold case of two offline pickers; two tabs of one user in step offline.
 */
import { describe, expect, it } from 'vitest'
import {
  browserSuite,
  browserSuiteAvailable,
  connection,
  goTo,
  onHand,
  openItem,
  phoneContext,
  poll,
  saveState,
  screenshot,
  serviceWorkerReady,
  signInPage,
  stockAction,
  watchErrors,
} from '../support/browser.js'
import { eventually, seedInventory } from '../support/server.js'

const available = browserSuiteAvailable('e2e offline')

describe.runIf(available)('offline in Chromium', () => {
  const suite = browserSuite({ storage: 'sqlite' })

  it('[E2E-1] signs in online, reloads offline from the service worker, keeps offline movements through a reload, and delivers them when back online', async () => {
    const { admin, shelf, bolts } = await seedInventory(suite.t)
    // A shelf's worth of neighbours, for a list that looks like a warehouse in the screenshots.
    const dock = admin.inv.createLocation({ name: 'Dock' })
    const stock: Array<[string, string, number, number]> = [
      ['ANCHOR-8', 'Wall anchor 8 mm', 240, 50], ['CABLE-TIE', 'Cable tie 200 mm', 3, 20], ['DRILL-6', 'Drill bit 6 mm', 0, 5],
      ['GLOVE-L', 'Work gloves, large', 18, 10], ['HINGE-75', 'Door hinge 75 mm', 44, 10], ['NUT-M10', 'Hex nut M10', 500, 100],
      ['SCREW-4x40', 'Wood screw 4 × 40', 1200, 200], ['TAPE-50', 'Packing tape 50 mm', 7, 12], ['WASHER-10', 'Washer M10', 320, 50],
    ]
    for (const [sku, name, quantity, reorderPoint] of stock) {
      const item = admin.inv.createItem({ sku, name, reorderPoint })
      if (quantity > 0) admin.inv.receive({ item, location: quantity > 100 ? dock : shelf, quantity })
    }
    const context = await phoneContext(suite.browser)
    const page = await context.newPage()
    const errors = watchErrors(page)
    await signInPage(page, suite.t.server.url, 'ed')
    await serviceWorkerReady(page)
    await poll(() => saveState(page)).toBe('All changes saved')
    await screenshot(page, 'inventory')

    await context.setOffline(true)
    await poll(() => connection(page)).toBe('Offline')
    await page.reload()
    await poll(() => connection(page)).toBe('Offline')
    await openItem(page, 'BOLT')
    expect(await onHand(page)).toBe(10)
    await stockAction(page, 'Pick', 2)
    await stockAction(page, 'Receive', 5)
    expect(await onHand(page)).toBe(13)
    await poll(() => saveState(page)).toBe('2 changes waiting')
    await screenshot(page, 'item-offline')
    await goTo(page, 'Items')
    await page.getByLabel('Search').fill('')
    await poll(() => page.getByTestId('waiting-mark').count()).toBe(1)
    expect(await page.locator('[data-testid="item-row"][data-sku="BOLT"] [data-testid="row-on-hand"]').textContent()).toBe('13 each')
    await screenshot(page, 'inventory-offline')
    await goTo(page, 'Status')
    await screenshot(page, 'status-offline')
    await openItem(page, 'BOLT')

    await page.reload()
    await page.getByTestId('item-page').waitFor()
    expect(await onHand(page)).toBe(13)
    await poll(() => saveState(page)).toBe('2 changes waiting')

    await context.setOffline(false)
    await poll(() => connection(page), 20_000).toBe('Online')
    await poll(() => saveState(page), 20_000).toBe('All changes saved')
    await eventually(async () => {
      const res = await suite.t.api('admin', 'GET', '/items')
      const items = res.json.items as Array<{ id: string; onHand: number }>
      expect(items.find((i) => i.id === bolts)?.onHand).toBe(13)
    })
    // Someone else on another phone sees them.
    const other = await phoneContext(suite.browser)
    const otherPage = await other.newPage()
    await signInPage(otherPage, suite.t.server.url, 'edna')
    await openItem(otherPage, 'BOLT')
    await poll(() => onHand(otherPage)).toBe(13)
    expect(errors).toEqual([])
    await other.close()
    await context.close()
  })

  it('[E2E-2] two pickers take the last unit offline; both come online and show the same on-hand and the oversold alert; before that each saw the other on the item', async () => {
    const { admin, shelf } = await seedInventory(suite.t)
    const last = admin.inv.createItem({ sku: 'LAST-1', name: 'The last one' })
    admin.inv.receive({ item: last, location: shelf, quantity: 1 })
    const pages = []
    for (const user of ['ed', 'edna']) {
      const context = await phoneContext(suite.browser)
      const page = await context.newPage()
      await signInPage(page, suite.t.server.url, user)
      await openItem(page, 'LAST-1')
      await poll(() => onHand(page)).toBe(1)
      pages.push({ context, page, errors: watchErrors(page) })
    }
    const [a, b] = pages
    if (!a || !b) throw new Error('two pickers')
    await poll(() => a.page.getByTestId('also-here').textContent(), 15_000).toContain('EDNA')
    await poll(() => b.page.getByTestId('also-here').textContent(), 15_000).toContain('ED')

    for (const p of pages) {
      await p.context.setOffline(true)
      await poll(() => connection(p.page)).toBe('Offline')
    }
    for (const p of pages) {
      await stockAction(p.page, 'Pick', 1)
      expect(await onHand(p.page)).toBe(0)
    }
    for (const p of pages) await p.context.setOffline(false)
    for (const p of pages) {
      await poll(() => saveState(p.page), 20_000).toBe('All changes saved')
      await poll(() => onHand(p.page), 20_000).toBe(-1)
      await goTo(p.page, 'Alerts')
      const alert = p.page.locator('[data-testid="alert"][data-kind="negative_stock"]')
      await poll(() => alert.getAttribute('data-state'), 20_000).toBe('confirmed')
      expect(await alert.textContent()).toContain('LAST-1')
    }
    await screenshot(a.page, 'alerts')
    for (const p of pages) {
      expect(p.errors).toEqual([])
      await p.context.close()
    }
  })

  it('[E2E-6] two tabs of one user stay in step with no network, and share the waiting count', async () => {
    await seedInventory(suite.t)
    const context = await phoneContext(suite.browser)
    const tabA = await context.newPage()
    await signInPage(tabA, suite.t.server.url, 'ed')
    await serviceWorkerReady(tabA)
    const tabB = await context.newPage()
    await tabB.goto(suite.t.server.url)
    await poll(() => connection(tabB), 20_000).toBe('Online')
    await context.setOffline(true)
    await openItem(tabA, 'BOLT')
    await openItem(tabB, 'BOLT')
    await stockAction(tabA, 'Pick', 4)
    await poll(() => onHand(tabB)).toBe(6)
    await stockAction(tabB, 'Receive', 1)
    await poll(() => onHand(tabA)).toBe(7)
    for (const tab of [tabA, tabB]) await poll(() => saveState(tab)).toBe('2 changes waiting')
    await context.setOffline(false)
    for (const tab of [tabA, tabB]) await poll(() => saveState(tab), 20_000).toBe('All changes saved')
    await context.close()
  })
})
