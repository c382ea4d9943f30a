/**
 * Builds service-worker/sw.ts into <outDir>/sw.js: bundled by Vite (one classic script, as every
 * browser accepts), then workbox-build's injectManifest writes the precache list of the app's
 * files with their revisions. Run after the app's own build (client/build.ts does both).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { injectManifest } from 'workbox-build'

export interface ServiceWorkerBuild {
  readonly precached: number
  readonly bytes: number
  readonly warnings: readonly string[]
}

export const buildServiceWorker = async (outDir: string): Promise<ServiceWorkerBuild> => {
  const tmp = mkdtempSync(join(tmpdir(), 'qm-sw-'))
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: {
        outDir: tmp,
        emptyOutDir: true,
        minify: true,
        lib: { entry: fileURLToPath(new URL('./sw.ts', import.meta.url)), formats: ['iife'], name: 'qmServiceWorker', fileName: () => 'sw.js' },
      },
    })
    const { count, size, warnings } = await injectManifest({
      swSrc: join(tmp, 'sw.js'),
      swDest: join(outDir, 'sw.js'),
      globDirectory: outDir,
      globPatterns: ['**/*.{html,js,css,svg,png,webmanifest,ico}'],
      globIgnores: ['sw.js', 'build.json', '**/*.map'],
      // Workbox leaves files over 2 MiB out of the precache, silently but for a warning: a shell
      // that is only half cached breaks offline reloads, so the build fails on any warning instead.
    })
    return { precached: count, bytes: size, warnings }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
