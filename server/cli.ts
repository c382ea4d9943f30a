/**
 * `qm`, the administration CLI: tenants and users in the SQLite store under DATA_DIR. It works while
 * the server runs (WAL and busy_timeout make two writers safe). `runCli(argv, io)` is the whole
 * program; `main` binds it to the real process for bin/qm.js.
 */
import { parseArgs } from 'node:util'
import { ROLES, type Role } from '../sync/origin.js'
import { hashPassword, passwordProblem } from './auth/passwords.js'
import { resolveDataDir, type Env } from './config.js'
import { openSqliteStorage, type SqliteStorage } from './storage/sqlite.js'
import { StorageError, type TenantRecord, type UserRecord } from './storage/types.js'
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
  user remove <tenant> <username>             Remove a user (their sessions end at the next refresh)
  user role <tenant> <username> <role>        Change a user's role
  user password <tenant> <username> [--password <pw>]
                                              Set a new password (signs the user's devices out)

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
    help: values.help === true,
    given: new Set(Object.keys(values)),
  }
}

interface Context {
  readonly args: Parsed
  readonly io: CliIo
  /** Positionals after the command words. */
  readonly operands: readonly string[]
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
