/**
 * The three wire dialects the load generator speaks, and a cheap reader for the (client, clock)
 * ranges an update carries.
 *
 * - y-websocket (and Quartermaster): y-protocols frames, `varUint type` + payload.
 * - Quartermaster adds the token and `ext=1` to the URL and answers updates with `durable` (100).
 * - Hocuspocus (v2+) puts the document name (`varString`) in front of every frame, wants an auth
 *   frame before anything else, answers a sync step 1 with type 4 (SyncReply), and acknowledges
 *   each update with SyncStatus (8).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

export type ServerKind = 'quartermaster' | 'y-websocket' | 'hocuspocus'
export const SERVER_KINDS: readonly ServerKind[] = ['quartermaster', 'y-websocket', 'hocuspocus']

const SYNC = 0
const AWARENESS = 1
const AUTH = 2
const SYNC_REPLY = 4 // Hocuspocus
const SYNC_STATUS = 8 // Hocuspocus
const DURABLE = 100 // Quartermaster
const STEP1 = 0
const STEP2 = 1
const UPDATE = 2

/** What a received frame means to the generator. */
export type Incoming =
  | { readonly kind: 'step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'step2' | 'update'; readonly update: Uint8Array }
  | { readonly kind: 'durable'; readonly stateVector: Uint8Array }
  | { readonly kind: 'ack'; readonly saved: boolean }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'denied'; readonly reason: string }
  | { readonly kind: 'other' }

export interface Dialect {
  readonly kind: ServerKind
  url(port: number, tenant: string, token: string | null): string
  /** Frames to send as soon as the socket opens, before sync step 1. */
  hello(tenant: string, token: string | null): Uint8Array[]
  /** Whether the client must wait for an `authenticated` frame before it counts as connected. */
  readonly waitsForAuth: boolean
  syncStep1(tenant: string, stateVector: Uint8Array): Uint8Array
  syncStep2(tenant: string, update: Uint8Array): Uint8Array
  update(tenant: string, update: Uint8Array): Uint8Array
  awareness(tenant: string, awarenessUpdate: Uint8Array): Uint8Array
  read(frame: Uint8Array): Incoming
  /** Whether the server acknowledges each update frame (SyncStatus), in order. */
  readonly acksEachUpdate: boolean
  /** Whether the server sends a sender's own update back to it (the stock relays broadcast to all). */
  readonly echoesToSender: boolean
}

const frame = (prefix: string | null, write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder()
  if (prefix !== null) encoding.writeVarString(e, prefix)
  write(e)
  return encoding.toUint8Array(e)
}

const readSync = (d: decoding.Decoder): Incoming => {
  const step = decoding.readVarUint(d)
  const payload = decoding.readVarUint8Array(d)
  if (step === STEP1) return { kind: 'step1', stateVector: payload }
  if (step === STEP2) return { kind: 'step2', update: payload }
  if (step === UPDATE) return { kind: 'update', update: payload }
  return { kind: 'other' }
}

const yProtocols = (kind: 'quartermaster' | 'y-websocket'): Dialect => ({
  kind,
  url: (port, tenant, token) =>
    kind === 'quartermaster'
      ? `ws://127.0.0.1:${port}/sync/${tenant}?ext=1&token=${encodeURIComponent(token ?? '')}`
      : `ws://127.0.0.1:${port}/${tenant}`,
  hello: () => [],
  waitsForAuth: false,
  syncStep1: (_t, sv) => frame(null, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, STEP1), encoding.writeVarUint8Array(e, sv))),
  syncStep2: (_t, u) => frame(null, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, STEP2), encoding.writeVarUint8Array(e, u))),
  update: (_t, u) => frame(null, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, UPDATE), encoding.writeVarUint8Array(e, u))),
  awareness: (_t, a) => frame(null, (e) => (encoding.writeVarUint(e, AWARENESS), encoding.writeVarUint8Array(e, a))),
  read: (bytes) => {
    const d = decoding.createDecoder(bytes)
    const type = decoding.readVarUint(d)
    if (type === SYNC) return readSync(d)
    if (type === DURABLE) return { kind: 'durable', stateVector: decoding.readVarUint8Array(d) }
    return { kind: 'other' }
  },
  acksEachUpdate: false,
  echoesToSender: kind === 'y-websocket',
})

const hocuspocus: Dialect = {
  kind: 'hocuspocus',
  url: (port) => `ws://127.0.0.1:${port}`,
  hello: (tenant, token) => [frame(tenant, (e) => (encoding.writeVarUint(e, AUTH), encoding.writeVarUint(e, 0), encoding.writeVarString(e, token ?? 'bench')))],
  waitsForAuth: true,
  syncStep1: (t, sv) => frame(t, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, STEP1), encoding.writeVarUint8Array(e, sv))),
  syncStep2: (t, u) => frame(t, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, STEP2), encoding.writeVarUint8Array(e, u))),
  update: (t, u) => frame(t, (e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, UPDATE), encoding.writeVarUint8Array(e, u))),
  awareness: (t, a) => frame(t, (e) => (encoding.writeVarUint(e, AWARENESS), encoding.writeVarUint8Array(e, a))),
  read: (bytes) => {
    const d = decoding.createDecoder(bytes)
    decoding.readVarString(d) // the document name: one document per socket here
    const type = decoding.readVarUint(d)
    if (type === SYNC || type === SYNC_REPLY) return readSync(d)
    if (type === SYNC_STATUS) return { kind: 'ack', saved: decoding.readVarUint(d) === 1 }
    if (type === AUTH) {
      const sub = decoding.readVarUint(d)
      if (sub === 2) return { kind: 'authenticated' }
      if (sub === 1) return { kind: 'denied', reason: decoding.readVarString(d) }
    }
    return { kind: 'other' }
  },
  acksEachUpdate: true,
  echoesToSender: true,
}

export const DIALECTS: Record<ServerKind, Dialect> = {
  quartermaster: yProtocols('quartermaster'),
  'y-websocket': yProtocols('y-websocket'),
  hocuspocus,
}

/** One y-protocols awareness update with a single state: `count, clientID, clock, JSON`. */
export const awarenessUpdate = (clientId: number, clock: number, state: unknown): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, clientId)
  encoding.writeVarUint(e, clock)
  encoding.writeVarString(e, JSON.stringify(state))
  return encoding.toUint8Array(e)
}

/** Content refs of Yjs structs (yjs/src/utils/UpdateDecoder + structs). */
const GC = 0
const SKIP = 10
const CONTENT_DELETED = 1
const CONTENT_JSON = 2
const CONTENT_STRING = 4
const CONTENT_ANY = 8

/**
 * The (client, from, to) clock ranges of an update, for matching arrivals to edits. The generator
 * reads every frame every client receives, so this has a fast path for the common shape (one
 * client, one struct: a relayed edit), reading only the struct's header; anything else goes to
 * Y.parseUpdateMeta. `out` is reused to spare allocations.
 */
export const updateRanges = (update: Uint8Array, out: Array<[number, number, number]>): Array<[number, number, number]> => {
  out.length = 0
  try {
    const d = decoding.createDecoder(update)
    const clients = decoding.readVarUint(d)
    if (clients === 0) return out
    if (clients === 1) {
      const structs = decoding.readVarUint(d)
      const client = decoding.readVarUint(d)
      const clock = decoding.readVarUint(d)
      if (structs === 1) {
        const length = singleStructLength(d)
        if (length > 0) {
          out.push([client, clock, clock + length])
          return out
        }
      }
    }
  } catch {
    // fall through to the full parse
  }
  out.length = 0
  const meta = Y.parseUpdateMeta(update)
  for (const [client, to] of meta.to) {
    const from = meta.from.get(client) ?? 0
    if (to > from) out.push([client, from, to])
  }
  return out
}

/** Length (in clock ticks) of the struct at the decoder, or 0 when the fast path does not know. */
const singleStructLength = (d: decoding.Decoder): number => {
  const info = decoding.readUint8(d)
  const ref = info & 0b11111
  if (ref === GC || ref === SKIP) return decoding.readVarUint(d)
  const hasOrigin = (info & 0b10000000) !== 0
  const hasRightOrigin = (info & 0b01000000) !== 0
  const hasParentSub = (info & 0b00100000) !== 0
  if (hasOrigin) (decoding.readVarUint(d), decoding.readVarUint(d))
  if (hasRightOrigin) (decoding.readVarUint(d), decoding.readVarUint(d))
  if (!hasOrigin && !hasRightOrigin) {
    const parentIsKey = decoding.readVarUint(d) === 1
    if (parentIsKey) decoding.readVarString(d)
    else (decoding.readVarUint(d), decoding.readVarUint(d))
    if (hasParentSub) decoding.readVarString(d)
  }
  switch (ref) {
    case CONTENT_DELETED:
    case CONTENT_JSON:
    case CONTENT_ANY:
      return decoding.readVarUint(d)
    case CONTENT_STRING:
      return decoding.readVarString(d).length
    default:
      return 0 // other content: let the full parse answer
  }
}
