/**
 * Snapshots, restore and the audit log over REST. Admins create and restore; everyone may look.
 * Expects the session middleware in front (server/app.ts).
 */
import { Hono } from 'hono'
import { SnapshotNotFound } from '../snapshots/service.js'
import type { SnapshotService } from '../snapshots/service.js'
import type { Storage } from '../storage/types.js'
import { apiError } from './errors.js'
import { requireRole } from './session.js'
import type { ApiEnv } from './session.js'

export const snapshotRoutes = (storage: Storage, snapshots: SnapshotService) => {
  const app = new Hono<ApiEnv>()
  app.onError((err, c) => {
    if (err instanceof SnapshotNotFound) return apiError(c, 404, 'not-found', err.message)
    throw err
  })

  app.get('/:tenant/snapshots', async (c) => {
    const limit = Number(c.req.query('limit') ?? 100)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) return apiError(c, 400, 'invalid-request', 'limit must be 1 to 1000')
    return c.json({ snapshots: await snapshots.list(c.req.param('tenant'), limit) })
  })

  app.post('/:tenant/snapshots', requireRole('admin'), async (c) => {
    let reason = ''
    if ((c.req.header('content-type') ?? '').includes('application/json')) {
      const body: unknown = await c.req.json().catch(() => null)
      const given = (body as { reason?: unknown } | null)?.reason
      if (given !== undefined && (typeof given !== 'string' || given.length > 500)) {
        return apiError(c, 400, 'invalid-request', 'reason must be text of at most 500 characters')
      }
      reason = given ?? ''
    }
    const session = c.get('session')
    const meta = await snapshots.create(session.tenant, { trigger: 'manual', by: session.userId, reason })
    return c.json(meta, 201)
  })

  app.get('/:tenant/snapshots/:id', async (c) => c.json(await snapshots.contents(c.req.param('tenant'), c.req.param('id'))))

  app.get('/:tenant/snapshots/:id/diff', async (c) => c.json(await snapshots.diff(c.req.param('tenant'), c.req.param('id'))))

  app.post('/:tenant/snapshots/:id/restore', requireRole('admin'), async (c) => {
    const session = c.get('session')
    return c.json(await snapshots.restore(session.tenant, c.req.param('id'), session.userId))
  })

  app.get('/:tenant/audit', requireRole('admin'), async (c) => {
    const limit = Number(c.req.query('limit') ?? 100)
    const beforeText = c.req.query('before')
    const before = beforeText === undefined ? undefined : Number(beforeText)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000 || (before !== undefined && !Number.isSafeInteger(before))) {
      return apiError(c, 400, 'invalid-request', 'limit must be 1 to 1000 and before an entry id')
    }
    const action = c.req.query('action')
    const entries = await storage.listAudit(c.req.param('tenant'), {
      limit,
      ...(before !== undefined ? { before } : {}),
      ...(action ? { action } : {}),
    })
    const last = entries[entries.length - 1]
    return c.json({ entries, next: entries.length === limit && last ? last.id : null })
  })

  return app
}
