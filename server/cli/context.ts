/** What every qm command shares: its I/O, its parsed arguments, the store, and small helpers. */
import { passwordProblem } from '../auth/passwords.js'
import type { Env } from '../config.js'
import type { Storage } from '../storage/types.js'
import { unknownTenant } from '../storage/validate.js'

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

/** A mistake on the command line: print it with a hint and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export interface Parsed {
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

export interface Context {
  readonly args: Parsed
  readonly io: CliIo
  /** Positionals after the command words. */
  readonly operands: readonly string[]
  readonly dataDir: string
  /** Opens the store on first use (Postgres when DATABASE_URL is set, else SQLite in the data dir); runCli closes it. */
  readonly storage: () => Promise<Storage>
}

export interface Command {
  readonly usage: string
  readonly operands: number
  /** Options besides the global ones (--data-dir, --help). */
  readonly options: readonly string[]
  /** Checks that need no database, run before it is opened. */
  readonly check?: (ctx: Context) => void
  readonly run: (ctx: Context) => Promise<void>
}

export const MAX_STDIN_PASSWORD_BYTES = 64 * 1024

/** The new password from --password, $QM_PASSWORD or standard input, checked against the policy. */
export const readNewPassword = async ({ args, io }: Context): Promise<string> => {
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

export const operand = (ctx: Context, index: number): string => {
  const value = ctx.operands[index]
  if (value === undefined) throw new Error(`operand ${index} missing after the count was checked`)
  return value
}

export const printTable = (io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  for (const row of [header, ...rows]) {
    io.stdout(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ') + '\n')
  }
}

export const isoDate = (ms: number): string => new Date(ms).toISOString()


export const requireTenant = async (storage: Storage, tenant: string): Promise<void> => {
  if (!(await storage.getTenant(tenant))) throw unknownTenant(tenant)
}

/** A command that did not do its work on purpose (a restore without --yes): exit 1, already explained. */
export class NotConfirmed extends Error {}
/** A failure with a message for people. */
export class CliFailure extends Error {}

