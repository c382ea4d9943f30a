/**
 * One server per DATA_DIR. The server writes `server.json` (pid, url) there while it runs: a second
 * server on the same directory refuses to start (its compaction would delete the first one's
 * updates), and the qm CLI finds the running server to send writes through it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const SERVER_FILE_NAME = 'server.json'

export interface RunningServerInfo {
  readonly pid: number
  readonly url: string
  readonly startedAt: number
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The server running on this data directory, if any (a file left by a dead process is ignored). */
export const runningServer = (dataDir: string): RunningServerInfo | undefined => {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, SERVER_FILE_NAME), 'utf8')) as RunningServerInfo
    return typeof info.pid === 'number' && info.pid !== process.pid && alive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}

export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse'
}

/** Claims the directory for this process; throws DataDirInUse if another live server holds it. */
export const lockDataDir = (dataDir: string): { publish(url: string): void; release(): void } => {
  const path = join(dataDir, SERVER_FILE_NAME)
  const other = runningServer(dataDir)
  if (other) throw new DataDirInUse(`another Quartermaster server (pid ${other.pid}, ${other.url}) uses ${dataDir}`)
  const write = (url: string) => writeFileSync(path, JSON.stringify({ pid: process.pid, url, startedAt: Date.now() }), { mode: 0o600 })
  write('')
  return {
    publish: write,
    release: () => {
      try {
        const info = JSON.parse(readFileSync(path, 'utf8')) as RunningServerInfo
        if (info.pid === process.pid) rmSync(path, { force: true })
      } catch {
        // already gone
      }
    },
  }
}
