/**
 * In-memory Storage for tests: the same behaviour as SQLite (it passes the same contract suite),
 * nothing survives the process. Every byte array is copied on the way in and out, so a caller that
 * reuses a buffer cannot change what was stored.
 */
import { memoryAlertStores } from './memory-alerts.js'
import { memorySnapshotStores } from './memory-snapshots.js'
import type { Role } from '../../sync/origin.js'
import { newId } from '../../sync/ids.js'
import type { Storage, StoredDocument, TenantRecord, UserRecord } from './types.js'
import {
  checkClientId,
  checkCompaction,
  checkDisplayName,
  checkPasswordHash,
  checkRole,
  checkTenantId,
  checkUpdate,
  checkUsername,
  duplicateTenant,
  duplicateUser,
  storageClosed,
  unknownTenant,
  unknownUser,
} from './validate.js'

export interface MemoryStorageOptions {
  /** Clock for `createdAt`; tests pin it. */
  readonly now?: () => number
}

interface MemoryTenant {
  readonly record: TenantRecord
  /** Keyed by lowercased username: usernames are unique without regard to case. */
  readonly users: Map<string, UserRecord>
  readonly clientIds: Map<number, string>
  state: Uint8Array | null
  compactedThrough: number
  lastSeq: number
  updates: { readonly seq: number; readonly bytes: Uint8Array }[]
}

const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes)

export const createMemoryStorage = (options: MemoryStorageOptions = {}): Storage => {
  const now = options.now ?? Date.now
  const tenants = new Map<string, MemoryTenant>()
  let closed = false

  const open = (): void => {
    if (closed) throw storageClosed('memory')
  }
  const tenantOrThrow = (id: string): MemoryTenant => {
    open()
    const tenant = tenants.get(id)
    if (!tenant) throw unknownTenant(id)
    return tenant
  }
  const userOrThrow = (tenantId: string, username: string): { tenant: MemoryTenant; user: UserRecord } => {
    const tenant = tenantOrThrow(tenantId)
    const user = tenant.users.get(username.toLowerCase())
    if (!user) throw unknownUser(tenantId, username)
    return { tenant, user }
  }
  const replaceUser = (tenant: MemoryTenant, user: UserRecord): void => {
    tenant.users.set(user.username.toLowerCase(), user)
  }

  return {
    ...memorySnapshotStores({ open, now, requireTenant: (id) => void tenantOrThrow(id) }),
    ...memoryAlertStores({ open, now, requireTenant: (id) => void tenantOrThrow(id) }),
    kind: 'memory',

    async close() {
      closed = true
    },

    async loadDocument(tenantId): Promise<StoredDocument> {
      const tenant = tenantOrThrow(tenantId)
      return {
        state: tenant.state === null ? null : copy(tenant.state),
        updates: tenant.updates.map((u) => copy(u.bytes)),
        compactedThrough: tenant.compactedThrough,
        lastSeq: tenant.lastSeq,
      }
    },

    async appendUpdate(tenantId, update) {
      const tenant = tenantOrThrow(tenantId)
      checkUpdate(update)
      const seq = tenant.lastSeq + 1
      tenant.updates.push({ seq, bytes: copy(update) })
      tenant.lastSeq = seq
      return seq
    },

    async compactDocument(tenantId, state, throughSeq) {
      const tenant = tenantOrThrow(tenantId)
      checkCompaction(tenantId, state, throughSeq, tenant)
      tenant.state = copy(state)
      tenant.compactedThrough = throughSeq
      tenant.updates = tenant.updates.filter((u) => u.seq > throughSeq)
    },

    async documentSize(tenantId) {
      const tenant = tenantOrThrow(tenantId)
      let size = tenant.state?.byteLength ?? 0
      for (const u of tenant.updates) size += u.bytes.byteLength
      return size
    },

    async createTenant({ id, name }) {
      open()
      checkTenantId(id)
      checkDisplayName('tenant name', name)
      if (tenants.has(id)) throw duplicateTenant(id)
      const record: TenantRecord = { id, name, createdAt: now() }
      tenants.set(id, {
        record,
        users: new Map(),
        clientIds: new Map(),
        state: null,
        compactedThrough: 0,
        lastSeq: 0,
        updates: [],
      })
      return record
    },

    async getTenant(id) {
      open()
      return tenants.get(id)?.record
    },

    async listTenants() {
      open()
      return [...tenants.values()].map((t) => t.record).sort((a, b) => compare(a.id, b.id))
    },

    async createUser({ tenant: tenantId, username, name, role, passwordHash }) {
      checkUsername(username)
      checkDisplayName('display name', name)
      checkRole(role)
      checkPasswordHash(passwordHash)
      const tenant = tenantOrThrow(tenantId)
      if (tenant.users.has(username.toLowerCase())) throw duplicateUser(tenantId, username)
      const user: UserRecord = { id: newId('u'), tenant: tenantId, username, name, role, passwordHash, createdAt: now() }
      replaceUser(tenant, user)
      return user
    },

    async getUserByName(tenantId, username) {
      open()
      return tenants.get(tenantId)?.users.get(username.toLowerCase())
    },

    async getUser(tenantId, id) {
      open()
      const tenant = tenants.get(tenantId)
      if (!tenant) return undefined
      for (const user of tenant.users.values()) if (user.id === id) return user
      return undefined
    },

    async listUsers(tenantId) {
      const tenant = tenantOrThrow(tenantId)
      return [...tenant.users.values()].sort((a, b) => compare(a.username.toLowerCase(), b.username.toLowerCase()))
    },

    async setUserRole(tenantId, username, role: Role) {
      checkRole(role)
      const { tenant, user } = userOrThrow(tenantId, username)
      replaceUser(tenant, { ...user, role })
    },

    async setUserPassword(tenantId, username, passwordHash) {
      checkPasswordHash(passwordHash)
      const { tenant, user } = userOrThrow(tenantId, username)
      replaceUser(tenant, { ...user, passwordHash })
    },

    async removeUser(tenantId, username) {
      const { tenant } = userOrThrow(tenantId, username)
      // Client ids the user claimed stay claimed by the removed id: nobody else may write with them.
      tenant.users.delete(username.toLowerCase())
    },

    async claimClientId(tenantId, clientId, userId) {
      checkClientId(clientId)
      const tenant = tenantOrThrow(tenantId)
      const owner = tenant.clientIds.get(clientId)
      if (owner !== undefined) return owner
      tenant.clientIds.set(clientId, userId)
      return userId
    },

    async clientIdOwners(tenantId, clientIds) {
      open()
      const owners = new Map<number, string>()
      const tenant = tenants.get(tenantId)
      if (!tenant) return owners
      for (const clientId of clientIds) {
        const owner = tenant.clientIds.get(clientId)
        if (owner !== undefined) owners.set(clientId, owner)
      }
      return owners
    },
  }
}

/** Byte-wise string order, the same as SQLite's BINARY collation on ASCII ids. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
