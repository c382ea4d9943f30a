/**
 * Presence (awareness) from a connection, rewritten before anyone sees it: each state carries the
 * authenticated user, a state larger than the limit is dropped, and a connection speaks only for
 * awareness client ids that no other connection speaks for.
 *
 * The bytes are y-protocols' awareness update: varUint count, then per state varUint clientID,
 * varUint clock, varString JSON.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Session } from './types.js'

const textEncoder = new TextEncoder()

/**
 * Returns the update to apply, or null if nothing in it may be. `claim(clientId)` answers whether
 * this connection may speak for the id, claiming it if nobody does. Throws on malformed bytes.
 */
export const stampPresence = (
  update: Uint8Array,
  session: Session,
  claim: (clientId: number) => boolean,
  maxStateBytes: number,
): Uint8Array | null => {
  const d = decoding.createDecoder(update)
  const count = decoding.readVarUint(d)
  const entries: Array<[number, number, string]> = []
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(d)
    const clock = decoding.readVarUint(d)
    const json = decoding.readVarString(d)
    if (textEncoder.encode(json).length > maxStateBytes || !claim(clientId)) continue
    const state: unknown = JSON.parse(json)
    const stamped =
      state === null
        ? null
        : {
            ...(typeof state === 'object' && !Array.isArray(state) ? state : {}),
            user: { id: session.userId, name: session.name, role: session.role },
          }
    entries.push([clientId, clock, JSON.stringify(stamped)])
  }
  if (entries.length === 0) return null
  const out = encoding.createEncoder()
  encoding.writeVarUint(out, entries.length)
  for (const [clientId, clock, json] of entries) {
    encoding.writeVarUint(out, clientId)
    encoding.writeVarUint(out, clock)
    encoding.writeVarString(out, json)
  }
  return encoding.toUint8Array(out)
}
