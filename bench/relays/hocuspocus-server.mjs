// A bare Hocuspocus server (no extensions) for bench/relays.ts. Plain JavaScript on purpose: run
// with plain `node`, so that it carries no TypeScript loader the real deployment would not have.
// Listens on 127.0.0.1 only: Server.listen() passes `address`, which Node ignores (it wants `host`).
import { Server } from '@hocuspocus/server'

const port = Number(process.env.PORT)
const server = new Server({ quiet: true, stopOnSignals: false })
server.httpServer.listen({ port, host: '127.0.0.1' }, () => {
  console.log(`BENCH_LISTENING ${JSON.stringify({ port: server.httpServer.address().port })}`)
})
