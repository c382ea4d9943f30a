/**
 * Renders client/public/icons/icon.svg to the PNG sizes the manifest lists (Chromium through
 * playwright-core). Run once after changing the SVG: node --import tsx client/render-icons.ts
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const dir = fileURLToPath(new URL('./public/icons/', import.meta.url))
const svg = readFileSync(`${dir}icon.svg`, 'utf8')
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] })
try {
  const page = await browser.newPage()
  for (const [name, size, pad] of [['icon-192.png', 192, 0], ['icon-512.png', 512, 0], ['icon-maskable-512.png', 512, 0.1]] as const) {
    await page.setViewportSize({ width: size, height: size })
    const inner = Math.round(size * (1 - 2 * pad))
    await page.setContent(
      `<body style="margin:0;background:${pad > 0 ? '#1f4e79' : 'transparent'};display:grid;place-items:center;width:${size}px;height:${size}px">` +
        `<div style="width:${inner}px;height:${inner}px">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</div></body>`,
    )
    await page.screenshot({ path: `${dir}${name}`, omitBackground: pad === 0 })
    console.log(`wrote ${name}`)
  }
} finally {
  await browser.close()
}
