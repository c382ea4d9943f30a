import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifyPassword } from './auth/passwords.js'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from './cli.js'
import { openPostgresStorage } from './storage/postgres.js'
import { openSqliteStorage } from './storage/sqlite.js'
import { freshSchema, testDatabaseUrl } from '../test/support/postgres.js'

const repoRoot = fileURLToPath(new URL('../', import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

describe('qm CLI', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'qm-cli-'))
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  /** Runs qm in-process against the temp data dir. stdin is a terminal unless text is given. */
  const qm = async (argv: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> => {
    let stdout = ''
    let stderr = ''
    const io: CliIo = {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      env: { DATA_DIR: dataDir, ...options.env },
      stdin: {
        isTTY: options.stdin === undefined,
        readAll: async () => options.stdin ?? '',
      },
    }
    const code = await runCli(argv, io)
    return { code, stdout, stderr }
  }

  const withStorage = async <T>(body: (storage: ReturnType<typeof openSqliteStorage>) => Promise<T>): Promise<T> => {
    const storage = openSqliteStorage(dataDir)
    try {
      return await body(storage)
    } finally {
      await storage.close()
    }
  }

  it('[CLI-1] the installed bin runs as a process and reads the password from a pipe', async () => {
    expect((await qm(['tenant', 'add', 'acme'])).code).toBe(EXIT_OK)
    const child = spawn(process.execPath, ['bin/qm.js', 'user', 'add', 'acme', 'alice', '--role', 'editor', '--name', 'Alice Adams'], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: dataDir, QM_PASSWORD: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end('pallet-jack-42\n')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(/^added user alice \(u_[a-z0-9]+\) to tenant acme as editor\n$/)
    await withStorage(async (storage) => {
      const user = await storage.getUserByName('acme', 'alice')
      expect(user).toMatchObject({ name: 'Alice Adams', role: 'editor' })
      expect(await verifyPassword('pallet-jack-42', user?.passwordHash ?? '')).toBe(true)
    })
  })

  it('[CLI-2] tenant add and tenant list, as a table or JSON', async () => {
    expect(await qm(['tenant', 'add', 'acme', '--name', 'Acme Tools'])).toEqual({ code: 0, stdout: 'added tenant acme (Acme Tools)\n', stderr: '' })
    expect((await qm(['tenant', 'add', 'globex'])).stdout).toBe('added tenant globex (globex)\n')
    const table = await qm(['tenant', 'list'])
    expect(table.code).toBe(EXIT_OK)
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+CREATED$/)
    expect(table.stdout).toMatch(/\nacme\s+Acme Tools\s+\d{4}-\d\d-\d\dT/)
    const json = JSON.parse((await qm(['tenant', 'list', '--json'])).stdout) as { id: string; name: string }[]
    expect(json.map((t) => [t.id, t.name])).toEqual([
      ['acme', 'Acme Tools'],
      ['globex', 'globex'],
    ])
  })

  it('[CLI-2] an empty store lists nothing on stdout and says so on stderr', async () => {
    const run = await qm(['tenant', 'list'])
    expect(run).toMatchObject({ code: EXIT_OK, stdout: '' })
    expect(run.stderr).toContain(join(dataDir, 'quartermaster.db'))
  })

  it('[CLI-3] the password comes from --password, else QM_PASSWORD, else stdin, and is stored hashed', async () => {
    await qm(['tenant', 'add', 'acme'])
    const env = { QM_PASSWORD: 'from-the-env' }
    expect((await qm(['user', 'add', 'acme', 'a', '--role', 'admin', '--password', 'from-the-flag'], { env, stdin: 'from-stdin' })).code).toBe(EXIT_OK)
    expect((await qm(['user', 'add', 'acme', 'b', '--role', 'editor'], { env, stdin: 'from-stdin' })).code).toBe(EXIT_OK)
    expect((await qm(['user', 'add', 'acme', 'c', '--role', 'viewer'], { stdin: 'from-stdin\r\n' })).code).toBe(EXIT_OK)
    await withStorage(async (storage) => {
      for (const [username, password] of [
        ['a', 'from-the-flag'],
        ['b', 'from-the-env'],
        ['c', 'from-stdin'],
      ] as const) {
        const user = await storage.getUserByName('acme', username)
        expect(user?.passwordHash).toMatch(/^scrypt\$/)
        expect(await verifyPassword(password, user?.passwordHash ?? ''), username).toBe(true)
      }
    })
  })

  it('[CLI-4] user list shows usernames, roles, ids and names, never password hashes', async () => {
    await qm(['tenant', 'add', 'acme'])
    await qm(['user', 'add', 'acme', 'zoe', '--role', 'viewer', '--name', 'Zoë Zimmer', '--password', 'long-enough'])
    await qm(['user', 'add', 'acme', 'adam', '--role', 'admin', '--password', 'long-enough'])
    const table = await qm(['user', 'list', 'acme'])
    expect(table.code).toBe(EXIT_OK)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^USERNAME\s+ROLE\s+ID\s+NAME$/)
    expect(lines[1]).toMatch(/^adam\s+admin\s+u_\w+\s+adam$/)
    expect(lines[2]).toMatch(/^zoe\s+viewer\s+u_\w+\s+Zoë Zimmer$/)
    const json = await qm(['user', 'list', 'acme', '--json'])
    expect(json.stdout).not.toContain('scrypt')
    expect(table.stdout).not.toContain('scrypt')
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ username: 'adam', role: 'admin', tenant: 'acme' }),
      expect.objectContaining({ username: 'zoe', name: 'Zoë Zimmer' }),
    ])
  })

  it('[CLI-5] user role, password and remove change the stored user', async () => {
    await qm(['tenant', 'add', 'acme'])
    await qm(['user', 'add', 'acme', 'alice', '--role', 'editor', '--password', 'first-password'])
    expect(await qm(['user', 'role', 'acme', 'alice', 'admin'])).toEqual({ code: 0, stdout: 'user alice in tenant acme is now admin\n', stderr: '' })
    expect((await qm(['user', 'password', 'acme', 'alice'], { stdin: 'second-password\n' })).code).toBe(EXIT_OK)
    const before = await withStorage(async (storage) => {
      const user = await storage.getUserByName('acme', 'alice')
      expect(user?.role).toBe('admin')
      expect(await verifyPassword('second-password', user?.passwordHash ?? '')).toBe(true)
      expect(await verifyPassword('first-password', user?.passwordHash ?? '')).toBe(false)
      return user
    })
    expect((await qm(['user', 'remove', 'acme', 'alice'])).stdout).toBe('removed user alice from tenant acme\n')
    await withStorage(async (storage) => expect(await storage.getUser('acme', before?.id ?? '')).toBeUndefined())
  })

  it('[CLI-6] bad input fails with a clear message and a non-zero exit code', async () => {
    await qm(['tenant', 'add', 'acme'])
    await qm(['user', 'add', 'acme', 'alice', '--role', 'editor', '--password', 'long-enough'])
    const cases: [readonly string[], { env?: Record<string, string>; stdin?: string }, number, RegExp][] = [
      [['tenant', 'add', 'acme'], {}, EXIT_FAILED, /tenant "acme" already exists/],
      [['tenant', 'add', 'Acme Corp'], {}, EXIT_USAGE, /invalid tenant id "Acme Corp"/],
      [['user', 'add', 'nope', 'bob', '--role', 'editor', '--password', 'long-enough'], {}, EXIT_FAILED, /unknown tenant "nope"/],
      [['user', 'add', 'acme', 'bob', '--role', 'boss', '--password', 'long-enough'], {}, EXIT_USAGE, /invalid role "boss": use one of admin, editor, viewer/],
      [['user', 'add', 'acme', 'bob', '--password', 'long-enough'], {}, EXIT_USAGE, /missing --role/],
      [['user', 'add', 'acme', 'ALICE', '--role', 'viewer', '--password', 'long-enough'], {}, EXIT_FAILED, /user "ALICE" already exists in tenant "acme"/],
      [['user', 'add', 'acme', 'bob', '--role', 'viewer'], {}, EXIT_USAGE, /missing password/],
      [['user', 'add', 'acme', 'bob', '--role', 'viewer'], { stdin: '\n' }, EXIT_USAGE, /missing password/],
      [['user', 'add', 'acme', 'bob', '--role', 'viewer', '--password', 'short'], {}, EXIT_USAGE, /at least 8 characters/],
      [['user', 'add', 'acme', 'bob smith', '--role', 'viewer', '--password', 'long-enough'], {}, EXIT_USAGE, /invalid username "bob smith"/],
      [['user', 'role', 'acme', 'alice', 'root'], {}, EXIT_USAGE, /invalid role "root"/],
      [['user', 'role', 'acme', 'ghost', 'admin'], {}, EXIT_FAILED, /unknown user "ghost" in tenant "acme"/],
      [['user', 'remove', 'acme', 'ghost'], {}, EXIT_FAILED, /unknown user "ghost"/],
      [['user', 'password', 'acme', 'ghost', '--password', 'long-enough'], {}, EXIT_FAILED, /unknown user "ghost"/],
      [['user', 'list', 'nope'], {}, EXIT_FAILED, /unknown tenant "nope"/],
      [['user', 'list'], {}, EXIT_USAGE, /expected 1 argument\(s\).*\nusage: qm user list/],
      [['tenant', 'list', '--role', 'admin'], {}, EXIT_USAGE, /"qm tenant list" takes no --role/],
      [['tenant', 'frobnicate'], {}, EXIT_USAGE, /unknown command "qm tenant frobnicate"/],
      [['user', 'add', '--bogus'], {}, EXIT_USAGE, /Unknown option '--bogus'/],
      [['user', 'add', 'acme', 'bob', '--role'], {}, EXIT_USAGE, /--role/],
    ]
    for (const [argv, options, code, message] of cases) {
      const run = await qm(argv, options)
      expect({ argv, code: run.code, stdout: run.stdout }).toEqual({ argv, code, stdout: '' })
      expect(run.stderr, argv.join(' ')).toMatch(message)
      expect(run.stderr.startsWith('qm: '), argv.join(' ')).toBe(true)
    }
    await withStorage(async (storage) => expect((await storage.listUsers('acme')).map((u) => u.username)).toEqual(['alice']))
  })

  it('[CLI-7] --help prints the usage; no command prints it to stderr with exit code 2', async () => {
    const help = await qm(['--help'])
    expect(help.code).toBe(EXIT_OK)
    for (const command of ['tenant add', 'tenant list', 'user add', 'user list', 'user remove', 'user role', 'user password', '--data-dir', 'QM_PASSWORD']) {
      expect(help.stdout).toContain(command)
    }
    expect((await qm(['user', 'add', '-h'])).stdout).toBe(help.stdout)
    expect(await qm([])).toEqual({ code: EXIT_USAGE, stdout: '', stderr: help.stdout })
  })

  it('[CLI-8] --data-dir overrides DATA_DIR, and the CLI writes while the server holds the store open', async () => {
    const server = openSqliteStorage(dataDir)
    try {
      await qm(['tenant', 'add', 'acme'])
      expect(await server.getTenant('acme')).toMatchObject({ id: 'acme' })
      await server.appendUpdate('acme', new Uint8Array([1, 2, 3]))
      await qm(['user', 'add', 'acme', 'alice', '--role', 'viewer', '--password', 'long-enough'])
      expect(await server.getUserByName('acme', 'alice')).toMatchObject({ role: 'viewer' })
    } finally {
      await server.close()
    }
    const elsewhere = join(dataDir, 'elsewhere')
    expect((await qm(['tenant', 'add', 'globex', '--data-dir', elsewhere])).code).toBe(EXIT_OK)
    expect((await qm(['tenant', 'list', '--json'])).stdout).not.toContain('globex')
    expect((await qm(['tenant', 'list', '--json', '--data-dir', elsewhere])).stdout).toContain('globex')
  })

  it('[CLI-10] webhook add, list and remove: the secret is printed once, lists never show it; bad URLs and secrets are usage errors', async () => {
    await qm(['tenant', 'add', 'acme'])
    const added = await qm(['webhook', 'add', 'acme', 'https://hooks.example.com/qm'])
    expect(added.code).toBe(EXIT_OK)
    const secret = /secret .*: (whsec_\S+)/.exec(added.stdout)?.[1]
    expect(secret).toBeDefined()
    const given = await qm(['webhook', 'add', 'acme', 'http://127.0.0.1:9000/in', '--secret', 'a-secret-of-enough-length', '--json'])
    expect(JSON.parse(given.stdout)).toMatchObject({ secret: 'a-secret-of-enough-length', webhook: { tenant: 'acme', url: 'http://127.0.0.1:9000/in' } })
    const listed = await qm(['webhook', 'list', 'acme', '--json'])
    const webhooks = JSON.parse(listed.stdout) as Array<{ id: string; url: string }>
    expect(webhooks.map((w) => w.url).sort()).toEqual(['http://127.0.0.1:9000/in', 'https://hooks.example.com/qm'])
    expect(listed.stdout).not.toContain(secret)
    expect(listed.stdout).not.toContain('a-secret-of-enough-length')
    expect((await qm(['webhook', 'list', 'acme'])).stdout).toContain('https://hooks.example.com/qm')
    await withStorage(async (storage) => expect((await storage.listWebhooks('acme')).find((w) => w.url.startsWith('https'))?.secret).toBe(secret))

    const id = webhooks[0]?.id ?? ''
    expect((await qm(['webhook', 'remove', 'acme', id])).code).toBe(EXIT_OK)
    expect(await qm(['webhook', 'remove', 'acme', id])).toMatchObject({ code: EXIT_FAILED, stdout: '' })
    expect(JSON.parse((await qm(['webhook', 'list', 'acme', '--json'])).stdout)).toHaveLength(1)
    for (const bad of [['ftp://example.com/x'], ['https://example.com/', '--secret', 'short'], ['not-a-url']]) {
      const run = await qm(['webhook', 'add', 'acme', ...bad])
      expect(run).toMatchObject({ code: EXIT_USAGE, stdout: '' })
      expect(run.stderr).toMatch(/^qm: /)
    }
    expect((await qm(['webhook', 'add', 'nowhere', 'https://example.com/'])).code).toBe(EXIT_FAILED)
  })
})

const postgresUrl = testDatabaseUrl('the qm-on-Postgres test')
if (postgresUrl) {
  describe('qm CLI on Postgres', () => {
    it('[CLI-11] with DATABASE_URL (and DATABASE_SCHEMA) qm works on the Postgres store the server uses', async () => {
      const schema = freshSchema(postgresUrl)
      const dataDir = await mkdtemp(join(tmpdir(), 'qm-cli-pg-'))
      try {
        const env = { DATA_DIR: dataDir, DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema.name, QM_PASSWORD: 'a long enough password' }
        const run = async (argv: string[]) => {
          let stdout = ''
          const code = await runCli(argv, {
            stdout: (t) => void (stdout += t),
            stderr: () => undefined,
            env,
            stdin: { isTTY: true, readAll: async () => '' },
          })
          return { code, stdout }
        }
        expect((await run(['tenant', 'add', 'acme'])).code).toBe(EXIT_OK)
        expect((await run(['user', 'add', 'acme', 'alice', '--role', 'editor'])).code).toBe(EXIT_OK)
        const storage = await openPostgresStorage(postgresUrl, { schema: schema.name })
        try {
          expect((await storage.getUserByName('acme', 'alice'))?.role).toBe('editor')
        } finally {
          await storage.close()
        }
        expect((await run(['tenant', 'list'])).stdout).toContain('acme')
      } finally {
        await schema.drop()
        await rm(dataDir, { recursive: true, force: true })
      }
    })
  })
}
