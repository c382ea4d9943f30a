/**
 * What the server does for the warehouse app: its files at `/` with the API first, the document
 * download, and the user list. A real server on port 0 with a made-up build in a temp folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { allSaved, eventually, seedInventory, startTestServer } from './support/server.js'
import type { TestServer } from './support/server.js'

let t: TestServer
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qm-client-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>QM</title><div id="root"></div>')
  writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log("app")')
  writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("fetch", () => {})')
  t = await startTestServer({ clientDir: dir })
})
afterAll(async () => {
  await t.stop()
  rmSync(dir, { recursive: true, force: true })
})

const get = (path: string, accept = '*/*') => fetch(`${t.server.url}${path}`, { headers: { accept } })

describe('serving the app', () => {
  it('[CLIENT-9] serves the built app at / and its files; navigations to app paths get index.html; the API, /metrics and unknown API paths keep their answers', async () => {
    const root = await get('/', 'text/html')
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toContain('text/html')
    expect(root.headers.get('cache-control')).toBe('no-cache')
    expect(await root.text()).toContain('<div id="root">')

    const asset = await get('/assets/app-abc123.js')
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toContain('javascript')
    expect(asset.headers.get('cache-control')).toContain('immutable')
    const sw = await get('/sw.js')
    expect(sw.headers.get('cache-control')).toBe('no-cache')

    const deep = await get('/items/it_123', 'text/html')
    expect(deep.status).toBe(200)
    expect(await deep.text()).toContain('<div id="root">')

    expect((await get('/assets/gone.js')).status).toBe(404)
    expect((await get('/../package.json')).status).toBe(404)
    expect((await get('/%2e%2e/package.json')).status).toBe(404)
    const health = await get('/api/health', 'text/html')
    expect(((await health.json()) as { status: string }).status).toBe('ok')
    const unknown = await get('/api/nothing-here', 'text/html')
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not-found')
    expect((await get('/metrics')).headers.get('content-type')).toContain('text/plain')
  })

  it('[CLIENT-10] GET document answers the whole tenant document as one Yjs update with its length, to any role with a token', async () => {
    const { admin, bolts } = await seedInventory(t)
    await eventually(() => expect(allSaved(admin)).toBe(true))
    const res = await fetch(`${t.server.url}/api/tenants/acme/document`, { headers: { authorization: `Bearer ${await t.token('vic')}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(Number(res.headers.get('content-length'))).toBe(bytes.byteLength)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, bytes)
    expect(copy.getMap('items').has(bolts)).toBe(true)
    expect((await fetch(`${t.server.url}/api/tenants/acme/document`)).status).toBe(401)
    const other = await fetch(`${t.server.url}/api/tenants/acme/document`, { headers: { authorization: `Bearer ${await t.token('gus')}` } })
    expect(other.status).toBe(403)
  })

  it('[REST-19] GET users lists the tenant\'s users (id, username, name, role; never a password hash) to any role', async () => {
    const res = await t.api('vic', 'GET', '/users')
    expect(res.status).toBe(200)
    const users = res.json.users as Array<Record<string, unknown>>
    expect(users.map((u) => u.username).sort()).toEqual(['admin', 'ed', 'edna', 'vic'])
    for (const u of users) expect(Object.keys(u).sort()).toEqual(['id', 'name', 'role', 'username'])
    expect((await t.api('gus', 'GET', '/users')).json.users).toEqual([
      { id: t.users.gus?.id, username: 'gus', name: 'Gus', role: 'admin' },
    ])
  })
})
