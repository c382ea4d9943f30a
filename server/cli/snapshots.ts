/** qm snapshot …: take, list, show, diff and restore snapshots, with or without a running server. */
import { loadAuthSecret } from '../auth/secret.js'
import { issueTokens } from '../auth/tokens.js'
import { runningServer } from '../data-dir-lock.js'
import { OfflineHost } from '../documents/offline-host.js'
import { SnapshotService } from '../snapshots/service.js'
import type { RestoreResult, SnapshotDiff } from '../snapshots/service.js'
import { CliFailure, NotConfirmed, UsageError, isoDate, operand, printTable, requireTenant } from './context.js'
import type { Command, Context } from './context.js'

const snapshotService = async (ctx: Context) => {
  const storage = await ctx.storage()
  return new SnapshotService(storage, new OfflineHost(storage))
}

const describeDiff = (d: SnapshotDiff): string => {
  const lines = [`restoring ${d.snapshot.id} (taken ${isoDate(d.snapshot.createdAt)}) would:`]
  if (d.itemsAdded.length) lines.push(`  archive ${d.itemsAdded.length} item(s) created since: ${d.itemsAdded.map((i) => i.sku).join(', ')}`)
  if (d.itemsRemoved.length) lines.push(`  bring back ${d.itemsRemoved.length} item(s): ${d.itemsRemoved.map((i) => i.sku).join(', ')}`)
  for (const f of d.fieldsChanged) lines.push(`  set ${f.kind} ${f.label} ${f.field}: ${JSON.stringify(f.now)} → ${JSON.stringify(f.snapshot)}`)
  if (d.locationsAdded.length) lines.push(`  archive ${d.locationsAdded.length} location(s) created since`)
  for (const q of d.quantities) lines.push(`  ${q.sku} at ${q.locationName}: ${q.now} → ${q.snapshot} (${q.delta > 0 ? '+' : ''}${q.delta})`)
  if (lines.length === 1) lines.push('  change nothing')
  return lines.join('\n') + '\n'
}

export const SNAPSHOT_COMMANDS: Readonly<Record<string, Command>> = {
  'snapshot list': {
    usage: 'qm snapshot list <tenant> [--json]',
    operands: 1,
    options: ['json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      await requireTenant(await ctx.storage(), tenant)
      const list = await (await ctx.storage()).listSnapshots(tenant, { limit: 1000 })
      if (ctx.args.json) {
        ctx.io.stdout(JSON.stringify(list.map((s) => ({ ...s, createdAt: isoDate(s.createdAt) })), null, 2) + '\n')
        return
      }
      printTable(ctx.io, ['ID', 'TAKEN', 'TRIGGER', 'ITEMS', 'UNITS', 'BYTES', 'REASON'], list.map((s) => [
        s.id, isoDate(s.createdAt), s.trigger, String(s.itemCount), String(s.totalUnits), String(s.byteSize), s.reason,
      ]))
    },
  },
  'snapshot create': {
    usage: 'qm snapshot create <tenant> [--reason <text>] [--json]',
    operands: 1,
    options: ['reason', 'json'],
    run: async (ctx) => {
      // Reading the stored document is safe beside a running server: it stores before it relays.
      const tenant = operand(ctx, 0)
      await requireTenant(await ctx.storage(), tenant)
      const meta = await (await snapshotService(ctx)).create(tenant, { trigger: 'manual', by: null, reason: ctx.args.reason ?? 'qm snapshot create' })
      ctx.io.stdout(ctx.args.json ? JSON.stringify(meta, null, 2) + '\n' : `took snapshot ${meta.id} of ${tenant}: ${meta.itemCount} items, ${meta.totalUnits} units\n`)
    },
  },
  'snapshot show': {
    usage: 'qm snapshot show <tenant> <id> [--json]',
    operands: 2,
    options: ['json'],
    run: async (ctx) => {
      const contents = await (await snapshotService(ctx)).contents(operand(ctx, 0), operand(ctx, 1))
      if (ctx.args.json) {
        ctx.io.stdout(JSON.stringify(contents, null, 2) + '\n')
        return
      }
      const names = new Map(contents.locations.map((l) => [l.id, l.name]))
      ctx.io.stdout(`snapshot ${contents.snapshot.id} taken ${isoDate(contents.snapshot.createdAt)} (${contents.snapshot.trigger})\n`)
      printTable(ctx.io, ['SKU', 'NAME', 'ON HAND', 'BY LOCATION'], contents.items.map((i) => [
        i.sku + (i.archived ? ' (archived)' : ''), i.name, String(i.onHand),
        Object.entries(i.byLocation).map(([l, q]) => `${names.get(l) ?? l}: ${q}`).join(', '),
      ]))
    },
  },
  'snapshot diff': {
    usage: 'qm snapshot diff <tenant> <id> [--json]',
    operands: 2,
    options: ['json'],
    run: async (ctx) => {
      const diff = await (await snapshotService(ctx)).diff(operand(ctx, 0), operand(ctx, 1))
      ctx.io.stdout(ctx.args.json ? JSON.stringify(diff, null, 2) + '\n' : describeDiff(diff))
    },
  },
  'snapshot restore': {
    usage: 'qm snapshot restore <tenant> <id> --yes [--as <admin username>] [--json]',
    operands: 2,
    options: ['yes', 'as', 'json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      const id = operand(ctx, 1)
      const storage = await ctx.storage()
      await requireTenant(storage, tenant)
      const admins = (await storage.listUsers(tenant)).filter((u) => u.role === 'admin')
      const admin = ctx.args.as === undefined ? admins[0] : admins.find((u) => u.username.toLowerCase() === ctx.args.as?.toLowerCase())
      if (!admin) {
        throw new UsageError(ctx.args.as === undefined ? `tenant ${tenant} has no admin to restore as` : `${ctx.args.as} is not an admin of ${tenant}`)
      }
      if (!ctx.args.yes) {
        ctx.io.stdout(describeDiff(await (await snapshotService(ctx)).diff(tenant, id)))
        ctx.io.stderr('qm: nothing was restored: run again with --yes to restore\n')
        throw new NotConfirmed()
      }
      const server = runningServer(ctx.dataDir)
      let result: RestoreResult
      if (server) {
        const { secret } = await loadAuthSecret({ authSecret: ctx.io.env.AUTH_SECRET || undefined, dataDir: ctx.dataDir })
        const { token } = await issueTokens(secret, admin)
        const res = await fetch(`${server.url}/api/tenants/${tenant}/snapshots/${encodeURIComponent(id)}/restore`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
        const body = (await res.json()) as RestoreResult & { error?: { message: string } }
        if (!res.ok) throw new CliFailure(`the server refused the restore: ${body.error?.message ?? res.status}`)
        result = body
      } else {
        result = await (await snapshotService(ctx)).restore(tenant, id, admin.id)
      }
      ctx.io.stdout(ctx.args.json
        ? JSON.stringify(result, null, 2) + '\n'
        : `restored ${tenant} to snapshot ${id}${server ? ' through the running server' : ''}: ${result.movementsWritten} restore movements.\n` +
          `To undo: qm snapshot restore ${tenant} ${result.preRestore.id} --yes\n`)
    },
  },
}
