/**
 * The wire protocol: y-protocols' sync and awareness messages, plus two messages of our own.
 * docs/PROTOCOL.md describes the bytes. Every message is `varUint type` followed by its payload.
 *
 * The custom messages are sent only to clients that ask for them (URL parameter `ext=1`): a stock
 * y-websocket provider logs an error for message types it does not know.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const MESSAGE = {
  /** y-protocols sync: step 1 (state vector), step 2 (missing updates), update. */
  sync: 0,
  /** y-protocols awareness update. */
  awareness: 1,
  /** y-protocols auth: permission denied with a reason. */
  auth: 2,
  /** y-protocols: ask for every awareness state. */
  queryAwareness: 3,
  /** Ours: the state vector the server has stored durably. */
  durable: 100,
  /** Ours: parts of a change the server refused and undid, with reasons. */
  rejected: 101,
} as const

/**
 * Close codes. y-websocket (3.x) stops reconnecting on 4400–4499, so those mean "do not retry
 * as is" (sign in again, ask an admin); 4500–4599 and 1012 mean "try again later".
 */
export const CLOSE = {
  /** The URL or a message could not be understood. */
  badRequest: { code: 4400, reason: 'bad-request' },
  /** No token, or a token that is forged or malformed. */
  unauthorized: { code: 4401, reason: 'unauthorized' },
  /** A valid token for another tenant, or a user who no longer exists. */
  forbidden: { code: 4403, reason: 'forbidden' },
  /** Too many bytes before authentication finished. */
  unauthenticatedOverflow: { code: 4408, reason: 'unauthenticated-overflow' },
  /** The document would outgrow MAX_DOCUMENT_BYTES. */
  documentTooLarge: { code: 4413, reason: 'document-too-large' },
  /** The user has MAX_CONNECTIONS_PER_USER connections open already. */
  tooManyConnections: { code: 4429, reason: 'too-many-connections' },
  /** The access token expired: refresh it and connect again. */
  tokenExpired: { code: 4440, reason: 'token-expired' },
  /** The store failed: nothing unsaved was acknowledged; reconnect and resend later. */
  storageUnavailable: { code: 4500, reason: 'storage-unavailable' },
  /** The server is shutting down or restarting (SIGTERM). */
  serviceRestart: { code: 1012, reason: 'service-restart' },
} as const
export type CloseName = keyof typeof CLOSE

/** Frames bigger than MAX_FRAME_BYTES are closed by the WebSocket layer with the standard 1009. */
export const CLOSE_MESSAGE_TOO_BIG = 1009

export interface RejectedChange {
  readonly code: string
  readonly message: string
  readonly path: string
}

export const encodeDurable = (stateVector: Uint8Array): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.durable)
  encoding.writeVarUint8Array(e, stateVector)
  return encoding.toUint8Array(e)
}

export const encodeRejected = (rejected: readonly RejectedChange[]): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.rejected)
  encoding.writeVarString(e, JSON.stringify({ rejected }))
  return encoding.toUint8Array(e)
}

/** Reads the payload of a durable message (after its type). */
export const readDurable = (decoder: decoding.Decoder): Uint8Array => decoding.readVarUint8Array(decoder)

/** Reads the payload of a rejected message (after its type). Throws on malformed input. */
export const readRejected = (decoder: decoding.Decoder): RejectedChange[] => {
  const parsed: unknown = JSON.parse(decoding.readVarString(decoder))
  const list = (parsed as { rejected?: unknown }).rejected
  if (!Array.isArray(list)) throw new Error('rejected message without a list')
  return list.map((r: Record<string, unknown>) => ({
    code: String(r.code),
    message: String(r.message),
    path: String(r.path),
  }))
}
