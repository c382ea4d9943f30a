/**
 * Roles and admin work in real Chromium: a viewer gets no edit controls at all; an admin's restore
 * in one browser shows in another at once; a CSV import shows its progress and its result.
 */
import { describe, expect, it } from 'vitest'
import {
  browserSuite,
  browserSuiteAvailable,
  goTo,
  onHand,
  openItem,
  phoneContext,
  poll,
  saveState,
  screenshot,
  signInPage,
  stockAction,
  watchErrors,
} from '../support/browser.js'
import { eventually, seedInventory } from '../support/server.js'

const available = browserSuiteAvailable('e2e roles')

describe.runIf(available)('roles and admin in Chromium', () => {
  const suite = browserSuite()

  it('[E2E-3] a viewer sees no edit controls: no stock actions, no item form, no new-item button, no pick or receive scan modes, no admin', async () => {
    await seedInventory(suite.t)
    const context = await phoneContext(suite.browser)
    const page = await context.newPage()
    const errors = watchErrors(page)
    await signInPage(page, suite.t.server.url, 'vic')
    expect(await page.getByRole('button', { name: 'New item or location' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Admin' }).count()).toBe(0)
    await openItem(page, 'BOLT')
    expect(await onHand(page)).toBe(10)
    await page.getByTestId('fields-readonly').waitFor()
    for (const name of ['Receive', 'Pick', 'Adjust', 'Count', 'Transfer']) expect(await page.getByRole('tab', { name }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Save details' }).count()).toBe(0)
    expect(await page.locator('form input, form select').count()).toBe(0)
    await screenshot(page, 'item-viewer')
    await goTo(page, 'Scan')
    expect(await page.getByRole('button', { name: 'Pick 1' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Receive 1' }).count()).toBe(0)
    expect(errors).toEqual([])
    await context.close()
  })

  it('[E2E-4] an admin previews and restores a snapshot in one browser, after a confirmation that says what will change; another browser shows it at once', async () => {
    await seedInventory(suite.t)
    const adminContext = await phoneContext(suite.browser)
    const admin = await adminContext.newPage()
    const edContext = await phoneContext(suite.browser)
    const ed = await edContext.newPage()
    const errors = [...watchErrors(admin), ...watchErrors(ed)]
    await signInPage(admin, suite.t.server.url, 'admin')
    await signInPage(ed, suite.t.server.url, 'ed')

    await goTo(admin, 'Admin')
    await admin.getByLabel('Snapshot reason').fill('before the stocktake')
    await admin.getByRole('button', { name: 'Take a snapshot now' }).click()
    await admin.getByRole('button', { name: /before the stocktake/ }).waitFor()

    await openItem(ed, 'BOLT')
    await stockAction(ed, 'Pick', 3)
    await poll(() => saveState(ed)).toBe('All changes saved')

    await admin.getByRole('button', { name: /before the stocktake/ }).click()
    await poll(() => admin.getByTestId('diff').textContent()).toContain('1 quantity changes (+3 units in total)')
    await admin.getByRole('button', { name: 'Restore this snapshot…' }).click()
    const dialog = admin.getByRole('alertdialog', { name: 'Confirm restore' })
    expect(await dialog.textContent()).toContain('1 quantity changes (+3 units in total)')
    await screenshot(admin, 'admin-restore')
    await dialog.getByRole('button', { name: 'Yes, restore' }).click()
    await admin.getByText(/Restored the snapshot/).waitFor()

    await poll(() => onHand(ed), 15_000).toBe(10)
    expect(errors).toEqual([])
    await adminContext.close()
    await edContext.close()
  })

  it('[E2E-7] a CSV import from the admin screen shows its progress and then what it did; the list has the new items', async () => {
    await seedInventory(suite.t)
    const context = await phoneContext(suite.browser)
    const page = await context.newPage()
    await signInPage(page, suite.t.server.url, 'admin')
    await goTo(page, 'Admin')
    await page.getByRole('tab', { name: 'CSV' }).click()
    // The import is quick here: a watcher records that the progress was on screen at all.
    await page.evaluate(() => {
      const seen = document.createElement('meta')
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="import-progress"]')) seen.name = 'saw-import-progress'
      }).observe(document.body, { childList: true, subtree: true })
      document.head.append(seen)
    })
    const rows = Array.from({ length: 2000 }, (_, i) => `IMP-${String(i).padStart(4, '0')},Imported ${i},each,,0,0,Shelf,${i % 7}`)
    const csv = ['sku,name,unit,barcode,reorderPoint,reorderQty,location,quantity', ...rows].join('\n')
    await page.locator('input[type="file"]').setInputFiles({ name: 'stock.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
    await page.getByTestId('import-summary').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('import-summary').textContent()).toContain('Imported 2000 rows: 2000 new items')
    expect(await page.locator('meta[name="saw-import-progress"]').count()).toBe(1)
    await goTo(page, 'Items')
    await eventually(async () => expect(await page.getByTestId('list-count').textContent()).toContain('2,001 items'))
    await context.close()
  })
})
