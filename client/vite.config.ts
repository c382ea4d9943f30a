/**
 * Builds the warehouse app (client/) into client/dist. The service worker is built after this by
 * client/build.ts (service-worker/build.ts), so it can precache exactly these files.
 */
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: here('.'),
  publicDir: here('./public'),
  plugins: [react()],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    sourcemap: true,
    // One app chunk and one for libraries: a cold start parses both once, in parallel.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8787',
      '/sync': { target: 'ws://127.0.0.1:8787', ws: true },
    },
  },
})
