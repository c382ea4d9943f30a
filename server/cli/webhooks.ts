/** qm webhook …: a tenant's webhooks. */
import { addWebhook, publicWebhook } from '../alerts/webhooks.js'
import { webhookSecretProblem, webhookUrlProblem } from '../storage/alert-validate.js'
import { CliFailure, UsageError, isoDate, operand, printTable, requireTenant } from './context.js'
import type { Command } from './context.js'

export const WEBHOOK_COMMANDS: Readonly<Record<string, Command>> = {
  'webhook add': {
    usage: 'qm webhook add <tenant> <url> [--secret <secret>] [--json]',
    operands: 2,
    options: ['secret', 'json'],
    check: (ctx) => {
      const problem = webhookUrlProblem(operand(ctx, 1)) ?? (ctx.args.secret === undefined ? undefined : webhookSecretProblem(ctx.args.secret))
      if (problem !== undefined) throw new UsageError(problem)
    },
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      await requireTenant(await ctx.storage(), tenant)
      const webhook = await addWebhook((await ctx.storage()), { tenant, url: operand(ctx, 1), secret: ctx.args.secret, createdBy: null })
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify({ webhook: publicWebhook(webhook), secret: webhook.secret }, null, 2) + '\n')
      ctx.io.stdout(`added webhook ${webhook.id} to tenant ${tenant}: ${webhook.url}\n`)
      ctx.io.stdout(`secret (shown only now; receivers check x-quartermaster-signature with it): ${webhook.secret}\n`)
    },
  },
  'webhook list': {
    usage: 'qm webhook list <tenant> [--json]',
    operands: 1,
    options: ['json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      await requireTenant(await ctx.storage(), tenant)
      const webhooks = (await (await ctx.storage()).listWebhooks(tenant)).map(publicWebhook)
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify(webhooks.map((w) => ({ ...w, createdAt: isoDate(w.createdAt) })), null, 2) + '\n')
      if (webhooks.length === 0) return ctx.io.stderr(`tenant ${tenant} has no webhooks\n`)
      printTable(ctx.io, ['ID', 'CREATED', 'URL'], webhooks.map((w) => [w.id, isoDate(w.createdAt), w.url]))
    },
  },
  'webhook remove': {
    usage: 'qm webhook remove <tenant> <id>',
    operands: 2,
    options: [],
    run: async (ctx) => {
      const [tenant, id] = [operand(ctx, 0), operand(ctx, 1)]
      await requireTenant(await ctx.storage(), tenant)
      if (!(await (await ctx.storage()).deleteWebhook(tenant, id))) throw new CliFailure(`tenant ${tenant} has no webhook ${id}`)
      ctx.io.stdout(`removed webhook ${id} from tenant ${tenant}\n`)
    },
  },
}
