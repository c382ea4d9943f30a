/** A private redis-server on a free port, so a test may stop and restart it without disturbing others. */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export interface PrivateRedis {
  readonly url: string
  stop(): Promise<void>
  start(): Promise<void>
}

export const startPrivateRedis = async (): Promise<PrivateRedis> => {
  const port = await freePort()
  let child: ChildProcess | null = null
  const start = () =>
    new Promise<void>((resolve, reject) => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
      const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000)
      child.stdout?.on('data', (b: Buffer) => {
        if (b.toString().includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('error', reject)
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child as ChildProcess | null
      if (!c || c.exitCode !== null) return resolve()
      c.once('exit', () => resolve())
      c.kill('SIGKILL')
    })
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, stop }
}
