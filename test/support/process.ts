/**
 * The real server as a child process (`node --import tsx server/main.ts`), for kill and CLI tests.
 * The sources under tsx, not the bundle `npm start` runs (dist/server-bundle): no build step, and
 * parallel suites never race to write one. server/build.test.ts starts the bundle.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import WS from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { issueTokens } from '../../server/auth/tokens.js'
import { MESSAGE } from '../../sync/protocol.js'
import type { UserRecord } from '../../server/storage/types.js'
import { SECRET } from './server.js'

const ROOT_DIR = new URL('../..', import.meta.url).pathname

export interface ServerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly output: string[]
}

/** Starts the server on `dataDir` and resolves once it listens (port 0 picks a free port). */
export const startServerProcess = (dataDir: string, port: number, env: Record<string, string> = {}): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT_DIR,
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), AUTH_SECRET: SECRET, COMPACT_EVERY_UPDATES: '50', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const output: string[] = []
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 30_000)
    child.stderr?.on('data', (b: Buffer) => output.push(b.toString()))
    child.stdout?.on('data', (b: Buffer) => {
      output.push(b.toString())
      const line = /QM_LISTENING (.*)/.exec(b.toString())
      if (line?.[1]) {
        clearTimeout(timer)
        resolve({ child, port: (JSON.parse(line[1]) as { port: number }).port, output })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output.join('')}`))
    })
  })

/** A stock provider of `user` against a server listening on `port` (a process, or a balancer in front). */
export const providerFor = async (
  port: number,
  user: UserRecord,
  options: { doc?: Y.Doc; ext?: boolean; tokenSeconds?: number } = {},
): Promise<WebsocketProvider> => {
  const seconds = options.tokenSeconds ?? 3600
  const { token } = await issueTokens(SECRET, user, Date.now(), { accessSeconds: seconds, refreshSeconds: seconds * 2 })
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/sync`, user.tenant, options.doc ?? new Y.Doc(), {
    params: options.ext ? { token, ext: '1' } : { token },
    WebSocketPolyfill: WS as unknown as typeof WebSocket,
    disableBc: true,
    maxBackoffTime: 100,
  })
  // With ext=1 the server sends our own messages; callers that care replace these handlers.
  provider.messageHandlers[MESSAGE.durable] = () => undefined
  provider.messageHandlers[MESSAGE.rejected] = () => undefined
  return provider
}
