/**
 * Checks a tenant, username and password against storage. Unknown tenant, unknown user and wrong
 * password are one answer ('bad-credentials') and take about the same time, so a caller cannot
 * find out which usernames exist.
 */
import type { DirectoryStore, UserRecord } from '../storage/types.js'
import { AuthError } from './errors.js'
import { hashPassword, verifyPassword } from './passwords.js'

export const authenticate = async (
  storage: Pick<DirectoryStore, 'getUserByName'>,
  tenant: string,
  username: string,
  password: string,
): Promise<UserRecord> => {
  const user = await storage.getUserByName(tenant, username)
  if (!user) {
    // Spend the cost of one scrypt anyway, so a miss is not faster than a wrong password.
    await hashPassword(password)
    throw new AuthError('bad-credentials', 'unknown user or wrong password')
  }
  if (!(await verifyPassword(password, user.passwordHash))) {
    throw new AuthError('bad-credentials', 'unknown user or wrong password')
  }
  return user
}
