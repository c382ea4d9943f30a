/**
 * A loopback TCP load balancer for multi-instance tests: each new connection goes to the next
 * backend in turn; a backend that refuses is skipped, as a real balancer's health check would.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Balancer {
  readonly port: number
  /** Backends, by port; changes apply to new connections. */
  backends: number[]
  close(): Promise<void>
}

export const startBalancer = async (backends: number[]): Promise<Balancer> => {
  let next = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.pause()
    const tryBackend = (attempt: number) => {
      if (attempt >= balancer.backends.length) {
        client.destroy()
        return
      }
      const port = balancer.backends[next++ % balancer.backends.length] as number
      const upstream = net.connect(port, '127.0.0.1')
      upstream.once('error', () => {
        upstream.destroy()
        tryBackend(attempt + 1)
      })
      upstream.once('connect', () => {
        upstream.removeAllListeners('error')
        sockets.add(upstream)
        upstream.on('close', () => {
          sockets.delete(upstream)
          client.destroy()
        })
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
        client.on('close', () => upstream.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    tryBackend(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const balancer: Balancer = {
    port: (server.address() as AddressInfo).port,
    backends,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return balancer
}
