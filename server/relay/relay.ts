/**
 * The relay: accepts WebSocket connections at /sync/<tenant>, authenticates them before any
 * document message is processed, and hands their messages to the tenant's Room. It owns no HTTP
 * routes; server/app.ts wires it to the Node HTTP server's upgrade event.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { WebSocketServer } from 'ws'
import type { RawData, WebSocket } from 'ws'
import { MESSAGE } from '../../sync/protocol.js'
import type { DocumentHost, DocumentSession } from '../documents/host.js'
import { Connection } from './connection.js'
import { RelayMetrics } from './metrics.js'
import { LocalFanout } from '../scale/fanout.js'
import type { Fanout } from '../scale/fanout.js'
import { Room, RoomClosed } from './room.js'
import { ConnectionRefused, DEFAULT_LIMITS } from './types.js'
import type { RelayHooks, RelayLimits } from './types.js'

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/
/** A connection that sends this many undecodable frames is closed. */
const MAX_PROTOCOL_ERRORS = 20

const toBytes = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** Whether a frame is a document update (sync step 2 or update): what the rate limit counts. */
const isDocumentUpdate = (bytes: Uint8Array): boolean => {
  try {
    const d = decoding.createDecoder(bytes)
    if (decoding.readVarUint(d) !== MESSAGE.sync) return false
    const step = decoding.readVarUint(d)
    return step === syncProtocol.messageYjsSyncStep2 || step === syncProtocol.messageYjsUpdate
  } catch {
    return false // handled, and counted as malformed, where it is read
  }
}

export interface RelayOptions {
  readonly hooks: RelayHooks
  readonly limits?: Partial<RelayLimits>
  /** Path prefix of the relay. @default '/sync' */
  readonly path?: string
  /** How other server instances hear of changes. @default LocalFanout (one instance) */
  readonly fanout?: Fanout
}

export class Relay implements DocumentHost {
  readonly limits: RelayLimits
  readonly metrics = new RelayMetrics()
  private readonly hooks: RelayHooks
  private readonly path: string
  private readonly wss: WebSocketServer
  private readonly rooms = new Map<string, Promise<Room>>()
  private readonly unloading = new Map<string, Promise<void>>()
  private readonly connections = new Set<Connection>()
  private readonly perUser = new Map<string, number>()
  private shuttingDown = false
  private readonly fanout: Fanout
  private readonly stopResume: () => void

  constructor(options: RelayOptions) {
    this.hooks = options.hooks
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.path = options.path ?? '/sync'
    this.fanout = options.fanout ?? new LocalFanout()
    this.stopResume = this.fanout.onResume(() => {
      for (const loading of this.rooms.values()) {
        void loading.then((room) => room.catchUp()).catch((err: unknown) => console.error('[relay] catch-up failed', err))
      }
    })
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxFrameBytes, perMessageDeflate: false })
  }

  get connectionCount(): number {
    return this.connections.size
  }

  get documentCount(): number {
    return this.rooms.size
  }

  /** For the HTTP server's 'upgrade' event. Returns false if the path is not the relay's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://relay')
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
      return true
    }
    if (url.pathname !== this.path && !url.pathname.startsWith(this.path + '/')) return false
    if (this.shuttingDown) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
      return true
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, url))
    return true
  }

  private accept(ws: WebSocket, url: URL): void {
    // Not URL-decoded: a tenant id is [a-z0-9-] only, so anything encoded fails the pattern below.
    const tenant = url.pathname.slice(this.path.length + 1)
    const conn = new Connection(ws, tenant, url.searchParams.get('ext') === '1', this.limits)
    this.connections.add(conn)
    const early: Uint8Array[] = []
    let room: Room | null = null
    let protocolErrors = 0

    const onMessage = (data: RawData) => {
      const bytes = toBytes(data)
      this.metrics.bytesReceived += bytes.length
      if (!room) {
        conn.unauthenticatedBytes += bytes.length
        if (conn.unauthenticatedBytes > this.limits.maxUnauthenticatedBytes) {
          conn.close('unauthenticatedOverflow')
          return
        }
        early.push(bytes)
        return
      }
      this.throttle(conn, bytes, handle)
    }
    const handle = (bytes: Uint8Array) => {
      if (!room) return
      try {
        this.handleMessage(conn, room, bytes)
      } catch {
        this.metrics.protocolErrors++
        if (++protocolErrors > MAX_PROTOCOL_ERRORS) conn.close('badRequest', 'too many malformed frames')
      }
    }
    ws.on('message', onMessage)
    ws.on('error', () => ws.terminate())
    ws.on('close', () => {
      conn.held.length = 0
      this.connections.delete(conn)
      const s = conn.session
      if (s) {
        const key = `${s.tenant}/${s.userId}`
        const n = (this.perUser.get(key) ?? 1) - 1
        if (n <= 0) this.perUser.delete(key)
        else this.perUser.set(key, n)
      }
      if (room) {
        room.leave(conn)
        this.scheduleUnload(room)
      }
    })

    void (async () => {
      if (!TENANT_PATTERN.test(tenant)) throw new ConnectionRefused('badRequest', 'no such tenant path')
      const session = await this.hooks.authenticate(tenant, url.searchParams.get('token'))
      if (session.tenant !== tenant) throw new ConnectionRefused('forbidden', 'the token is for another tenant')
      const key = `${tenant}/${session.userId}`
      const open = this.perUser.get(key) ?? 0
      if (open >= this.limits.maxConnectionsPerUser) throw new ConnectionRefused('tooManyConnections', `at most ${this.limits.maxConnectionsPerUser}`)
      if (!conn.isOpen) return
      this.perUser.set(key, open + 1)
      conn.session = session
      if (session.expiresAt !== undefined) {
        // Rights are checked when a connection opens; expiry makes the device come back and be checked again.
        const expiry = setTimeout(() => conn.close('tokenExpired', 'sign in again or refresh'), Math.min(2 ** 31 - 1, Math.max(0, session.expiresAt - Date.now())))
        expiry.unref()
        ws.once('close', () => clearTimeout(expiry))
      }
      const loaded = await this.room(tenant)
      if (!conn.isOpen) {
        this.scheduleUnload(loaded) // it may have been loaded for this connection alone
        return
      }
      if (loaded.idleTimer) {
        clearTimeout(loaded.idleTimer)
        loaded.idleTimer = null
      }
      room = loaded
      this.metrics.connectionsOpened++
      loaded.join(conn)
      for (const bytes of early.splice(0)) onMessage(bytes as unknown as RawData)
    })().catch((err: unknown) => {
      this.metrics.connectionsRefused++
      if (err instanceof ConnectionRefused) conn.close(err.close, err.message)
      else {
        console.error('[relay] could not open a connection', err)
        conn.close('storageUnavailable')
      }
    })
  }

  /**
   * The update rate limit (RelayLimits.updatesPerSecond): an update beyond it waits for its turn,
   * and so does everything the connection sends after it, in order. Meanwhile the socket is
   * paused, so TCP pushes back on this sender only. (Pausing alone is not enough: ws still hands
   * over every frame of a chunk it has already read.)
   */
  private throttle(conn: Connection, bytes: Uint8Array, handle: (bytes: Uint8Array) => void): void {
    const wait = isDocumentUpdate(bytes) ? conn.takeUpdateToken() : 0
    if (conn.held.length === 0 && wait === 0) {
      handle(bytes)
      return
    }
    conn.held.push({ bytes, notBefore: Date.now() + wait })
    if (conn.held.length > 1) return // a drain is scheduled already
    conn.socket.pause()
    const drain = () => {
      for (let next = conn.held[0]; next && next.notBefore <= Date.now(); next = conn.held[0]) {
        conn.held.shift()
        handle(next.bytes)
      }
      const next = conn.held[0]
      if (next) setTimeout(drain, Math.max(1, next.notBefore - Date.now())).unref()
      else if (conn.isOpen) conn.socket.resume()
    }
    setTimeout(drain, wait).unref()
  }

  private handleMessage(conn: Connection, room: Room, bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes)
    const type = decoding.readVarUint(d)
    switch (type) {
      case MESSAGE.sync: {
        const step = decoding.readVarUint(d)
        const payload = decoding.readVarUint8Array(d)
        if (step === syncProtocol.messageYjsSyncStep1) {
          void room.answerStateVector(conn, payload).catch(() => undefined)
        } else if (step === syncProtocol.messageYjsSyncStep2 || step === syncProtocol.messageYjsUpdate) {
          void room.receiveUpdate(conn, payload).catch((err: unknown) => {
            if (!(err instanceof RoomClosed)) console.error('[relay] update failed', err)
          })
        } else {
          throw new Error(`unknown sync step ${step}`)
        }
        return
      }
      case MESSAGE.awareness:
        room.applyAwareness(conn, decoding.readVarUint8Array(d))
        return
      case MESSAGE.queryAwareness:
        room.queryAwareness(conn)
        return
      case MESSAGE.auth:
        return // clients have nothing to say here; the token came with the URL
      default:
        throw new Error(`unknown message type ${type}`)
    }
  }

  /**
   * The tenant's room, loaded once however many connections ask at the same time. A room that is
   * being unloaded finishes first, so a fresh load sees everything it stored.
   */
  async room(tenant: string): Promise<Room> {
    for (;;) {
      await this.unloading.get(tenant)
      let loading = this.rooms.get(tenant)
      if (!loading) {
        const started = Room.load(tenant, { hooks: this.hooks, limits: this.limits, metrics: this.metrics, fanout: this.fanout })
        loading = started
        this.rooms.set(tenant, started)
        started.catch(() => {
          if (this.rooms.get(tenant) === started) this.rooms.delete(tenant)
        })
      }
      const room = await loading
      if (!room.isClosed) return room
      if (this.rooms.get(tenant) === loading) this.rooms.delete(tenant)
    }
  }

  /**
   * Runs `fn` with the tenant's room (for REST, imports, restores), then lets an unused room
   * unload after the idle time as if its last connection had left.
   */
  async withRoom<T>(tenant: string, fn: (room: Room) => Promise<T>): Promise<T> {
    const room = await this.room(tenant)
    try {
      return await fn(room)
    } finally {
      this.scheduleUnload(room)
    }
  }

  /** DocumentHost for server duties (snapshots, restore): the tenant's room, exclusively. */
  exclusive<T>(tenant: string, fn: (session: DocumentSession) => Promise<T>): Promise<T> {
    return this.withRoom(tenant, (room) => room.exclusive(fn))
  }

  private scheduleUnload(room: Room): void {
    if (room.connections.size > 0 || room.isClosed) return
    if (room.idleTimer) clearTimeout(room.idleTimer)
    room.idleTimer = setTimeout(() => {
      room.idleTimer = null
      if (room.connections.size > 0 || this.unloading.has(room.tenant)) return
      this.rooms.delete(room.tenant)
      const done = room.unload().finally(() => this.unloading.delete(room.tenant))
      this.unloading.set(room.tenant, done)
    }, this.limits.idleUnloadMs)
    room.idleTimer.unref()
  }

  /** Finishes queued work, compacts every document, and closes every connection with 1012. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true
    const rooms = await Promise.allSettled([...this.rooms.values()])
    this.rooms.clear()
    await Promise.allSettled([...this.unloading.values()])
    await Promise.all(rooms.map((r) => (r.status === 'fulfilled' ? r.value.unload('serviceRestart') : undefined)))
    for (const c of this.connections) c.close('serviceRestart')
    this.stopResume()
    this.wss.close()
  }
}
