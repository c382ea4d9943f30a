/**
 * Serves the built warehouse PWA (client/, service-worker/; `npm run build:client` writes it to
 * client/dist) at `/`. The API, /metrics and the relay keep priority: this handler runs after every
 * route and only answers GET and HEAD. A navigation to a path with no file gets index.html, so a
 * deep link (/items/it_…) opens the app; the service worker does the same offline.
 */
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MiddlewareHandler } from 'hono'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

/** Paths that belong to the server, never to the app (no SPA fallback there). */
const SERVER_PATH = /^\/(api|sync|metrics)(\/|$)/

/** The repository's client/dist, found from this file whether it runs from source or from dist/. */
export const defaultClientDir = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'client', 'dist')
    const up = dirname(dir)
    if (up === dir) return resolve('client', 'dist')
    dir = up
  }
}

const cacheControl = (path: string): string =>
  // Vite puts a content hash in every file name under assets/: those never change.
  path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Quartermaster</title>
<p>The warehouse app is not built yet. Run <code>npm run build:client</code> (or <code>npm start</code>, which builds it) and reload.</p>`

export const serveClientApp = (root: string): MiddlewareHandler => {
  const base = resolve(root)
  const fileOf = async (path: string): Promise<string | null> => {
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      return null
    }
    const file = normalize(join(base, decoded))
    if (file !== base && !file.startsWith(base + sep)) return null
    try {
      return (await stat(file)).isFile() ? file : null
    } catch {
      return null
    }
  }
  return async (c, next) => {
    const method = c.req.method
    const path = c.req.path
    if ((method !== 'GET' && method !== 'HEAD') || SERVER_PATH.test(path)) return next()
    const direct = path === '/' ? null : await fileOf(path)
    // A navigation (a page, not a stale /assets/x.js) to a path with no file gets the app.
    const navigation = path === '/' || ((c.req.header('accept') ?? '').includes('text/html') && extname(path) === '')
    const file = direct ?? (navigation ? await fileOf('/index.html') : null)
    if (file === null) return navigation ? c.html(NOT_BUILT, 503) : next()
    const headers = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': cacheControl(direct ? path : '/index.html'),
      'x-content-type-options': 'nosniff',
    }
    if (method === 'HEAD') return c.body(null, 200, headers)
    return c.body(await readFile(file), 200, headers)
  }
}
