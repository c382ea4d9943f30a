/**
 * What a device needs besides the relay: the whole document as one download (so a new device can
 * show progress while a large tenant arrives, then sync the rest over the relay), and the tenant's
 * people (names for the movement history; the admin's user list). Any role may read both.
 * Expects the session middleware in front (server/app.ts).
 */
import { Hono } from 'hono'
import * as Y from 'yjs'
import type { Relay } from '../relay/relay.js'
import type { Storage } from '../storage/types.js'
import type { ApiEnv } from './session.js'

export const deviceRoutes = (storage: Storage, relay: Relay) => {
  const app = new Hono<ApiEnv>()

  /**
   * The tenant's document as a Yjs update (v1), exactly what the relay's sync step 2 would carry
   * to an empty device. It holds only stored content: the read runs on the room's queue.
   */
  app.get('/:tenant/document', async (c) => {
    const tenant = c.req.param('tenant')
    const update = await relay.withRoom(tenant, (room) => room.read((doc) => Y.encodeStateAsUpdate(doc)))
    // Yjs encodes into a plain ArrayBuffer; the view only narrows the type, nothing is copied.
    const body = new Uint8Array(update.buffer as ArrayBuffer, update.byteOffset, update.byteLength)
    return c.body(body, 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(update.byteLength),
      'cache-control': 'no-store',
    })
  })

  app.get('/:tenant/users', async (c) => {
    const users = await storage.listUsers(c.req.param('tenant'))
    return c.json({ users: users.map((u) => ({ id: u.id, username: u.username, name: u.name, role: u.role })) })
  })

  return app
}
