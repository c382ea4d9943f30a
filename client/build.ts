/**
 * `npm run build:client`: the warehouse app (Vite, client/vite.config.ts) into client/dist, then
 * its service worker (service-worker/build.ts). `--if-needed` (npm start) skips the build when
 * client/dist is newer than every source file it is made from.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = join(root, 'client', 'dist')
const stampFile = join(outDir, 'build.json')
const SOURCES = ['client', 'service-worker', 'sync', 'package.json']

/** The newest modification time among the app's sources (tests and the Node-only store tests aside). */
const newestSource = (): number => {
  let newest = 0
  const walk = (path: string): void => {
    const s = statSync(path)
    if (s.isDirectory()) {
      for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== 'dist') walk(join(path, name))
    } else if (!/\.test\.tsx?$/.test(path)) {
      newest = Math.max(newest, s.mtimeMs)
    }
  }
  for (const s of SOURCES) if (existsSync(join(root, s))) walk(join(root, s))
  return newest
}

const upToDate = (): boolean => {
  if (!existsSync(stampFile) || !existsSync(join(outDir, 'sw.js'))) return false
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { sourcesAt?: unknown }
  return typeof stamp.sourcesAt === 'number' && stamp.sourcesAt >= newestSource()
}

const main = async (): Promise<void> => {
  if (process.argv.includes('--if-needed') && upToDate()) {
    console.log(`client: ${relative(root, outDir)} is up to date`)
    return
  }
  // Loaded only when there is something to build: an up-to-date app needs no build tools.
  const { build } = await import('vite')
  const { buildServiceWorker } = await import('../service-worker/build.js')
  const started = Date.now()
  const sourcesAt = newestSource()
  await build({ configFile: join(root, 'client', 'vite.config.ts'), logLevel: 'warn' })
  const sw = await buildServiceWorker(outDir)
  if (sw.warnings.length > 0) throw new Error(`service worker: ${sw.warnings.join('; ')}`)
  writeFileSync(stampFile, JSON.stringify({ builtAt: Date.now(), sourcesAt }, null, 2) + '\n')
  console.log(
    `client: built ${relative(root, outDir)} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `the service worker precaches ${sw.precached} files (${(sw.bytes / 1024).toFixed(0)} KiB)`,
  )
}

main().catch((err: unknown) => {
  console.error('client build failed:', err)
  process.exit(1)
})
