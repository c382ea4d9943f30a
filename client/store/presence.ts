/**
 * Who else is online in the tenant, and who is looking at the same item: y-protocols awareness
 * through the relay. The server stamps every state with the sender's real identity
 * (docs/PROTOCOL.md, PRESENCE-1), so a name shown here is the name of the account.
 */
import type { Awareness } from 'y-protocols/awareness'
import type { SessionUser } from './session.js'

export interface PeerState {
  readonly clientId: number
  readonly userId: string
  readonly name: string
  readonly role: string
  /** The item this device has open, or null. */
  readonly item: string | null
}

const readPeer = (clientId: number, state: Record<string, unknown>): PeerState | null => {
  const user = state.user as { id?: unknown; name?: unknown; role?: unknown } | undefined
  if (typeof user?.id !== 'string') return null
  return {
    clientId,
    userId: user.id,
    name: typeof user.name === 'string' ? user.name : user.id,
    role: typeof user.role === 'string' ? user.role : '',
    item: typeof state.item === 'string' ? state.item : null,
  }
}

export class Presence {
  constructor(
    private readonly awareness: Awareness,
    user: SessionUser,
  ) {
    awareness.setLocalState({ user: { id: user.id, name: user.name, role: user.role }, item: null })
  }

  /** Says which item this device has open (null: none). */
  setItem(item: string | null): void {
    const current = this.awareness.getLocalState()
    if (current?.item === item) return
    this.awareness.setLocalStateField('item', item)
  }

  /** Every other device in the tenant (this user's other tabs and devices included). */
  peers(): PeerState[] {
    const out: PeerState[] = []
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue
      const peer = readPeer(clientId, state)
      if (peer) out.push(peer)
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId)
  }

  subscribe(listener: () => void): () => void {
    this.awareness.on('change', listener)
    return () => this.awareness.off('change', listener)
  }

  destroy(): void {
    this.awareness.setLocalState(null)
  }
}

/** One entry per person (several tabs of one person show once). */
export const people = (peers: readonly PeerState[]): PeerState[] => {
  const seen = new Map<string, PeerState>()
  for (const p of peers) if (!seen.has(p.userId)) seen.set(p.userId, p)
  return [...seen.values()]
}
