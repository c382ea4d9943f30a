/**
 * `qm`, the administration CLI: tenants, users, snapshots and webhooks in the store the server uses
 * (SQLite under DATA_DIR, or Postgres with DATABASE_URL). It works while the server runs. The
 * commands live in server/cli/; `runCli(argv, io)` is the whole program and `main` binds it to the
 * real process for bin/qm.js.
 */
import { parseArgs } from 'node:util'
import { resolveDataDir, type Env } from './config.js'
import { SnapshotNotFound } from './snapshots/service.js'
import { openPostgresStorage } from './storage/postgres.js'
import { openSqliteStorage } from './storage/sqlite.js'
import { StorageError, type Storage } from './storage/types.js'
import { ROLES } from '../sync/origin.js'
import { CliFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, MAX_STDIN_PASSWORD_BYTES, NotConfirmed, UsageError } from './cli/context.js'
import type { CliIo, Command, Context, Parsed } from './cli/context.js'
import { DIRECTORY_COMMANDS } from './cli/directory.js'
import { SNAPSHOT_COMMANDS } from './cli/snapshots.js'
import { WEBHOOK_COMMANDS } from './cli/webhooks.js'

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/context.js'
export type { CliIo } from './cli/context.js'

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

const COMMANDS: Readonly<Record<string, Command>> = { ...DIRECTORY_COMMANDS, ...SNAPSHOT_COMMANDS, ...WEBHOOK_COMMANDS }

const GLOBAL_OPTIONS = new Set(['data-dir', 'help'])

/** The store the server would use: Postgres when DATABASE_URL is set, else SQLite in the data dir. */
const openStorage = async (env: Env, dataDir: string): Promise<Storage> => {
  const url = env.DATABASE_URL?.trim()
  if (url) return openPostgresStorage(url, { schema: env.DATABASE_SCHEMA?.trim() || 'public' })
  return openSqliteStorage(dataDir)
}

/** Runs one qm invocation and resolves to its exit code. Never calls process.exit. */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  let opened: Promise<Storage> | undefined
  let code = await runCommand(argv, io, (dataDir) => (opened ??= openStorage(io.env, dataDir)))
  if (opened) {
    try {
      await (await opened).close()
    } catch (error) {
      code = reportError(io, error)
    }
  }
  return code
}

const runCommand = async (
  argv: readonly string[],
  io: CliIo,
  openStorage: (dataDir: string) => Promise<Storage>,
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
