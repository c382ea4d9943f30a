/**
 * Transaction origins: every change made to a tenant document says where it came from, so that
 * observers (the server's validation, the client's "waiting to sync" view) can tell them apart.
 */
export type Role = 'admin' | 'editor' | 'viewer'
export const ROLES: readonly Role[] = ['admin', 'editor', 'viewer']

/** Who a change is attributed to when rules are checked. */
export type Actor =
  | { readonly kind: 'server' }
  | { readonly kind: 'user'; readonly userId: string; readonly role: Role }

export const SERVER_ACTOR: Actor = { kind: 'server' }

export type Origin =
  /** A change made through the Inventory API on this replica. */
  | { readonly source: 'local'; readonly userId: string }
  /** An update received from a connection (server side) or from the relay (client side). */
  | { readonly source: 'connection'; readonly connectionId: string }
  /** A change the server makes itself: compensation, compaction, restore, alerts. */
  | { readonly source: 'server'; readonly reason: 'compensation' | 'compaction' | 'restore' | 'alerts' | 'migration' | 'import' }
  /** State loaded from storage (IndexedDB, the server's store). */
  | { readonly source: 'storage' }
  /** An update another server instance accepted and stored (server side, scale-out). */
  | { readonly source: 'peer' }

export const isOrigin = (value: unknown): value is Origin =>
  typeof value === 'object' && value !== null && 'source' in value
