/**
 * `qm`, the administration CLI: tenants and users in the SQLite store under DATA_DIR. It works while
 * the server runs (WAL and busy_timeout make two writers safe). `runCli(argv, io)` is the whole
 * program; `main` binds it to the real process for bin/qm.js.
 */
import { parseArgs } from 'node:util'
import { addWebhook, publicWebhook } from './alerts/webhooks.js'
import { loadAuthSecret } from './auth/secret.js'
import { issueTokens } from './auth/tokens.js'
import { runningServer } from './data-dir-lock.js'
import { OfflineHost } from './documents/offline-host.js'
import { SnapshotNotFound, SnapshotService } from './snapshots/service.js'
import type { RestoreResult, SnapshotDiff } from './snapshots/service.js'
import { ROLES, type Role } from '../sync/origin.js'
import { hashPassword, passwordProblem } from './auth/passwords.js'
import { resolveDataDir, type Env } from './config.js'
import { openSqliteStorage, type SqliteStorage } from './storage/sqlite.js'
import { StorageError, type TenantRecord, type UserRecord } from './storage/types.js'
import { webhookSecretProblem, webhookUrlProblem } from './storage/alert-validate.js'
import {
  checkDisplayName,
  checkRole,
  checkTenantId,
  checkUsername,
  duplicateUser,
  unknownTenant,
  unknownUser,
} from './storage/validate.js'

export interface CliIo {
  /** Writes to standard output (text is written as given; lines end with '\n'). */
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly env: Env
  readonly stdin: {
    readonly isTTY: boolean
    /** Everything on standard input until it closes. */
    readAll(): Promise<string>
  }
}

export const EXIT_OK = 0
/** The command was understood but failed: unknown tenant, duplicate user, database unavailable. */
export const EXIT_FAILED = 1
/** The command line was wrong: unknown command or option, bad role, missing password. */
export const EXIT_USAGE = 2

export const HELP = `qm — Quartermaster administration

Usage: qm <command> [options]

Commands:
  tenant add <tenant> [--name <name>]         Create a tenant (name defaults to the id)
  tenant list                                 List tenants
  user add <tenant> <username> --role <role> [--name <display name>] [--password <pw>]
                                              Create a user (display name defaults to the username)
  user list <tenant>                          List a tenant's users
  user remove <tenant> <username>             Remove a user (open connections close when their
                                              access token expires; refresh stops at once)
  user role <tenant> <username> <role>        Change a user's role
  user password <tenant> <username> [--password <pw>]
                                              Set a new password (the user's refresh tokens stop
                                              working; devices sign in again)

  snapshot list <tenant>                      List a tenant's snapshots, newest first
  snapshot create <tenant> [--reason <text>]  Take a snapshot now
  snapshot show <tenant> <id>                 Items and on-hand per location as of a snapshot
  snapshot diff <tenant> <id>                 What restoring a snapshot would change now
  snapshot restore <tenant> <id> --yes [--as <admin>]
                                              Restore a snapshot (a safety snapshot is taken first;
                                              restoring that one undoes it). Without --yes, only
                                              shows what would change. Goes through the running
                                              server when there is one, so every device sees it.

  webhook add <tenant> <url> [--secret <s>]   Send the tenant's alerts to an http(s) URL, signed with
                                              HMAC-SHA256; prints the secret once (generated unless
                                              given; --secret is visible in the process list)
  webhook list <tenant>                       List a tenant's webhooks (secrets are never shown)
  webhook remove <tenant> <id>                Remove a webhook and its delivery log

Roles: ${ROLES.join(', ')}
Tenant ids: 1–63 lowercase letters, digits and hyphens, starting with a letter or digit.
Usernames: 1–64 letters, digits, '_', '.' or '-'; unique within a tenant regardless of case.

Options:
  --data-dir <dir>   Data directory (default: $DATA_DIR, else ./data)
  --json             Print list output as JSON
  -h, --help         Show this help

Passwords come from --password, else $QM_PASSWORD, else standard input when it is not a
terminal (printf '%s' "$PW" | qm user add acme alice --role editor). Prefer the last two:
command-line arguments are visible in the process list.

The CLI works whether or not the server is running.
Exit codes: 0 success, 1 the command failed, 2 bad usage.
`

/** A mistake on the command line: print it with a hint and exit 2. */
class UsageError extends Error {
  override readonly name = 'UsageError'
}

interface Parsed {
  readonly positionals: readonly string[]
  readonly dataDir: string | undefined
  readonly name: string | undefined
  readonly role: string | undefined
  readonly password: string | undefined
  readonly json: boolean
  readonly reason: string | undefined
  readonly as: string | undefined
  readonly yes: boolean
  readonly secret: string | undefined
  readonly help: boolean
  /** Options that were given, by long name. */
  readonly given: ReadonlySet<string>
}

const parse = (argv: readonly string[]): Parsed => {
  let result
  try {
    result = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        password: { type: 'string' },
        json: { type: 'boolean' },
        reason: { type: 'string' },
        as: { type: 'string' },
        yes: { type: 'boolean' },
        secret: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    // parseArgs reports unknown options and missing option values as TypeErrors with ERR_PARSE_ARGS_*.
    if (error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message)
    }
    throw error
  }
  const { values, positionals } = result
  return {
    positionals,
    dataDir: values['data-dir'],
    name: values.name,
    role: values.role,
    password: values.password,
    json: values.json === true,
    reason: values.reason,
    as: values.as,
    yes: values.yes === true,
    secret: values.secret,
    help: values.help === true,
    given: new Set(Object.keys(values)),
  }
}

interface Context {
  readonly args: Parsed
  readonly io: CliIo
  /** Positionals after the command words. */
  readonly operands: readonly string[]
  readonly dataDir: string
  /** Opens the store on first use; runCli closes it. */
  readonly storage: () => SqliteStorage
}

interface Command {
  readonly usage: string
  readonly operands: number
  /** Options besides the global ones (--data-dir, --help). */
  readonly options: readonly string[]
  /** Checks that need no database, run before it is opened. */
  readonly check?: (ctx: Context) => void
  readonly run: (ctx: Context) => Promise<void>
}

const MAX_STDIN_PASSWORD_BYTES = 64 * 1024

/** The new password from --password, $QM_PASSWORD or standard input, checked against the policy. */
const readNewPassword = async ({ args, io }: Context): Promise<string> => {
  let password: string | undefined = args.password
  if (password === undefined && io.env.QM_PASSWORD !== undefined && io.env.QM_PASSWORD !== '') password = io.env.QM_PASSWORD
  if (password === undefined && !io.stdin.isTTY) {
    const text = await io.stdin.readAll()
    if (text.length > MAX_STDIN_PASSWORD_BYTES) throw new UsageError('standard input is too long to be a password')
    // One trailing newline is what `echo` adds, not part of the password.
    password = text.replace(/\r?\n$/, '')
    if (password === '') password = undefined
  }
  if (password === undefined) {
    throw new UsageError('missing password: pass --password, set QM_PASSWORD, or pipe it on standard input')
  }
  const problem = passwordProblem(password)
  if (problem !== undefined) throw new UsageError(problem)
  return password
}

const operand = (ctx: Context, index: number): string => {
  const value = ctx.operands[index]
  if (value === undefined) throw new Error(`operand ${index} missing after the count was checked`)
  return value
}

const printTable = (io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  for (const row of [header, ...rows]) {
    io.stdout(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ') + '\n')
  }
}

const isoDate = (ms: number): string => new Date(ms).toISOString()

const publicUser = (user: UserRecord) => ({
  id: user.id,
  tenant: user.tenant,
  username: user.username,
  name: user.name,
  role: user.role,
  createdAt: isoDate(user.createdAt),
})

const publicTenant = (tenant: TenantRecord) => ({ id: tenant.id, name: tenant.name, createdAt: isoDate(tenant.createdAt) })

const requireTenant = async (storage: SqliteStorage, tenant: string): Promise<void> => {
  if (!(await storage.getTenant(tenant))) throw unknownTenant(tenant)
}

/** A command that did not do its work on purpose (a restore without --yes): exit 1, already explained. */
class NotConfirmed extends Error {}
/** A failure with a message for people. */
class CliFailure extends Error {}

const snapshotService = (ctx: Context) => new SnapshotService(ctx.storage(), new OfflineHost(ctx.storage()))

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

const COMMANDS: Readonly<Record<string, Command>> = {
  'tenant add': {
    usage: 'qm tenant add <tenant> [--name <name>]',
    operands: 1,
    options: ['name'],
    check: (ctx) => {
      checkTenantId(operand(ctx, 0))
      if (ctx.args.name !== undefined) checkDisplayName('tenant name', ctx.args.name)
    },
    run: async (ctx) => {
      const id = operand(ctx, 0)
      const tenant = await ctx.storage().createTenant({ id, name: ctx.args.name ?? id })
      ctx.io.stdout(`added tenant ${tenant.id} (${tenant.name})\n`)
    },
  },
  'tenant list': {
    usage: 'qm tenant list [--json]',
    operands: 0,
    options: ['json'],
    run: async (ctx) => {
      const storage = ctx.storage()
      const tenants = await storage.listTenants()
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify(tenants.map(publicTenant), null, 2) + '\n')
      if (tenants.length === 0) return ctx.io.stderr(`no tenants yet in ${storage.path}\n`)
      printTable(ctx.io, ['ID', 'NAME', 'CREATED'], tenants.map((t) => [t.id, t.name, isoDate(t.createdAt)]))
    },
  },
  'user add': {
    usage: 'qm user add <tenant> <username> --role <role> [--name <display name>] [--password <pw>]',
    operands: 2,
    options: ['role', 'name', 'password'],
    check: (ctx) => {
      checkUsername(operand(ctx, 1))
      if (ctx.args.role === undefined) throw new UsageError(`missing --role (one of ${ROLES.join(', ')})`)
      checkRole(ctx.args.role)
      if (ctx.args.name !== undefined) checkDisplayName('display name', ctx.args.name)
    },
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      const password = await readNewPassword(ctx)
      const storage = ctx.storage()
      // Fail on an unknown tenant or a taken name before spending a scrypt on the password.
      await requireTenant(storage, tenant)
      if (await storage.getUserByName(tenant, username)) throw duplicateUser(tenant, username)
      const user = await storage.createUser({
        tenant,
        username,
        name: ctx.args.name ?? username,
        role: ctx.args.role as Role,
        passwordHash: await hashPassword(password),
      })
      ctx.io.stdout(`added user ${user.username} (${user.id}) to tenant ${tenant} as ${user.role}\n`)
    },
  },
  'user list': {
    usage: 'qm user list <tenant> [--json]',
    operands: 1,
    options: ['json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      const users = await ctx.storage().listUsers(tenant)
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify(users.map(publicUser), null, 2) + '\n')
      if (users.length === 0) return ctx.io.stderr(`tenant ${tenant} has no users yet\n`)
      printTable(ctx.io, ['USERNAME', 'ROLE', 'ID', 'NAME'], users.map((u) => [u.username, u.role, u.id, u.name]))
    },
  },
  'user remove': {
    usage: 'qm user remove <tenant> <username>',
    operands: 2,
    options: [],
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      await ctx.storage().removeUser(tenant, username)
      ctx.io.stdout(`removed user ${username} from tenant ${tenant}\n`)
    },
  },
  'user role': {
    usage: 'qm user role <tenant> <username> <role>',
    operands: 3,
    options: [],
    check: (ctx) => checkRole(operand(ctx, 2)),
    run: async (ctx) => {
      const [tenant, username, role] = [operand(ctx, 0), operand(ctx, 1), operand(ctx, 2)]
      await ctx.storage().setUserRole(tenant, username, role as Role)
      ctx.io.stdout(`user ${username} in tenant ${tenant} is now ${role}\n`)
    },
  },
  'user password': {
    usage: 'qm user password <tenant> <username> [--password <pw>]',
    operands: 2,
    options: ['password'],
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      const password = await readNewPassword(ctx)
      const storage = ctx.storage()
      await requireTenant(storage, tenant)
      if (!(await storage.getUserByName(tenant, username))) throw unknownUser(tenant, username)
      await storage.setUserPassword(tenant, username, await hashPassword(password))
      ctx.io.stdout(`changed the password of ${username} in tenant ${tenant}\n`)
    },
  },
  'snapshot list': {
    usage: 'qm snapshot list <tenant> [--json]',
    operands: 1,
    options: ['json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      await requireTenant(ctx.storage(), tenant)
      const list = await ctx.storage().listSnapshots(tenant, { limit: 1000 })
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
      await requireTenant(ctx.storage(), tenant)
      const meta = await snapshotService(ctx).create(tenant, { trigger: 'manual', by: null, reason: ctx.args.reason ?? 'qm snapshot create' })
      ctx.io.stdout(ctx.args.json ? JSON.stringify(meta, null, 2) + '\n' : `took snapshot ${meta.id} of ${tenant}: ${meta.itemCount} items, ${meta.totalUnits} units\n`)
    },
  },
  'snapshot show': {
    usage: 'qm snapshot show <tenant> <id> [--json]',
    operands: 2,
    options: ['json'],
    run: async (ctx) => {
      const contents = await snapshotService(ctx).contents(operand(ctx, 0), operand(ctx, 1))
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
      const diff = await snapshotService(ctx).diff(operand(ctx, 0), operand(ctx, 1))
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
      const storage = ctx.storage()
      await requireTenant(storage, tenant)
      const admins = (await storage.listUsers(tenant)).filter((u) => u.role === 'admin')
      const admin = ctx.args.as === undefined ? admins[0] : admins.find((u) => u.username.toLowerCase() === ctx.args.as?.toLowerCase())
      if (!admin) {
        throw new UsageError(ctx.args.as === undefined ? `tenant ${tenant} has no admin to restore as` : `${ctx.args.as} is not an admin of ${tenant}`)
      }
      if (!ctx.args.yes) {
        ctx.io.stdout(describeDiff(await snapshotService(ctx).diff(tenant, id)))
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
        result = await snapshotService(ctx).restore(tenant, id, admin.id)
      }
      ctx.io.stdout(ctx.args.json
        ? JSON.stringify(result, null, 2) + '\n'
        : `restored ${tenant} to snapshot ${id}${server ? ' through the running server' : ''}: ${result.movementsWritten} restore movements.\n` +
          `To undo: qm snapshot restore ${tenant} ${result.preRestore.id} --yes\n`)
    },
  },
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
      await requireTenant(ctx.storage(), tenant)
      const webhook = await addWebhook(ctx.storage(), { tenant, url: operand(ctx, 1), secret: ctx.args.secret, createdBy: null })
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
      await requireTenant(ctx.storage(), tenant)
      const webhooks = (await ctx.storage().listWebhooks(tenant)).map(publicWebhook)
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
      await requireTenant(ctx.storage(), tenant)
      if (!(await ctx.storage().deleteWebhook(tenant, id))) throw new CliFailure(`tenant ${tenant} has no webhook ${id}`)
      ctx.io.stdout(`removed webhook ${id} from tenant ${tenant}\n`)
    },
  },
}

const GLOBAL_OPTIONS = new Set(['data-dir', 'help'])

/** Runs one qm invocation and resolves to its exit code. Never calls process.exit. */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  let storage: SqliteStorage | undefined
  let code = await runCommand(argv, io, (dataDir) => (storage ??= openSqliteStorage(dataDir)))
  if (storage) {
    try {
      await storage.close()
    } catch (error) {
      code = reportError(io, error)
    }
  }
  return code
}

const runCommand = async (
  argv: readonly string[],
  io: CliIo,
  openStorage: (dataDir: string) => SqliteStorage,
): Promise<number> => {
  try {
    const args = parse(argv)
    const [group, verb, ...operands] = args.positionals
    if (args.help || group === 'help') {
      io.stdout(HELP)
      return EXIT_OK
    }
    if (group === undefined) {
      io.stderr(HELP)
      return EXIT_USAGE
    }
    const key = `${group} ${verb ?? ''}`.trim()
    const command = COMMANDS[key]
    if (!command) throw new UsageError(`unknown command "qm ${key}"`)
    if (operands.length !== command.operands) {
      throw new UsageError(`expected ${command.operands} argument(s) after "qm ${key}", got ${operands.length}\nusage: ${command.usage}`)
    }
    for (const option of args.given) {
      if (!GLOBAL_OPTIONS.has(option) && !command.options.includes(option)) {
        throw new UsageError(`"qm ${key}" takes no --${option}\nusage: ${command.usage}`)
      }
    }
    const dataDir = args.dataDir ?? resolveDataDir(io.env)
    const ctx: Context = {
      args,
      io,
      operands,
      dataDir,
      storage: () => openStorage(dataDir),
    }
    command.check?.(ctx)
    await command.run(ctx)
    return EXIT_OK
  } catch (error) {
    return reportError(io, error)
  }
}

/** Prints a failure for a person and picks the exit code. */
const reportError = (io: CliIo, error: unknown): number => {
  if (error instanceof UsageError) {
    io.stderr(`qm: ${error.message}\nRun "qm --help" for usage.\n`)
    return EXIT_USAGE
  }
  if (error instanceof NotConfirmed) return EXIT_FAILED
  if (error instanceof CliFailure || error instanceof SnapshotNotFound) {
    io.stderr(`qm: ${error.message}\n`)
    return EXIT_FAILED
  }
  if (error instanceof StorageError) {
    io.stderr(`qm: ${error.message}\n`)
    return error.code === 'invalid' ? EXIT_USAGE : EXIT_FAILED
  }
  // Not a failure we foresaw: show everything we know.
  io.stderr(`qm: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  return EXIT_FAILED
}

/** The real process's streams and environment. */
export const processIo = (): CliIo => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  stdin: {
    isTTY: process.stdin.isTTY === true,
    readAll: async () => {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of process.stdin) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
        chunks.push(buffer)
        size += buffer.length
        // Enough to tell "too long for a password" without buffering an endless pipe.
        if (size > MAX_STDIN_PASSWORD_BYTES) break
      }
      return Buffer.concat(chunks).toString('utf8')
    },
  },
})

export const main = async (argv: readonly string[] = process.argv.slice(2)): Promise<void> => {
  process.exitCode = await runCli(argv, processIo())
}
