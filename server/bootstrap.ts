/**
 * First start on an empty store: make a tenant and an admin with a generated password, and say so
 * once. Every later start finds a tenant and does nothing.
 */
import { randomBytes } from 'node:crypto'
import { hashPassword } from './auth/passwords.js'
import { StorageError } from './storage/types.js'
import type { Storage } from './storage/types.js'

export interface FirstAdmin {
  readonly tenant: string
  readonly username: string
  readonly password: string
}

export const bootstrapFirstAdmin = async (storage: Storage, tenant = 'demo'): Promise<FirstAdmin | null> => {
  if ((await storage.listTenants()).length > 0) return null
  const password = randomBytes(12).toString('base64url')
  try {
    await storage.createTenant({ id: tenant, name: 'Demo warehouse' })
  } catch (err) {
    // Several instances on one fresh database start at once: one of them makes the tenant.
    if (err instanceof StorageError && err.code === 'conflict') return null
    throw err
  }
  await storage.createUser({ tenant, username: 'admin', name: 'Administrator', role: 'admin', passwordHash: await hashPassword(password) })
  return { tenant, username: 'admin', password }
}
