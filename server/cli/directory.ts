/** qm tenant … and qm user …: the directory of tenants and users. */
import { hashPassword } from '../auth/passwords.js'
import { ROLES, type Role } from '../../sync/origin.js'
import type { TenantRecord, UserRecord } from '../storage/types.js'
import { checkDisplayName, checkRole, checkTenantId, checkUsername, duplicateUser, unknownUser } from '../storage/validate.js'
import { UsageError, isoDate, operand, printTable, readNewPassword, requireTenant } from './context.js'
import type { Command } from './context.js'

const publicUser = (user: UserRecord) => ({
  id: user.id,
  tenant: user.tenant,
  username: user.username,
  name: user.name,
  role: user.role,
  createdAt: isoDate(user.createdAt),
})

const publicTenant = (tenant: TenantRecord) => ({ id: tenant.id, name: tenant.name, createdAt: isoDate(tenant.createdAt) })

export const DIRECTORY_COMMANDS: Readonly<Record<string, Command>> = {
  'tenant add': {
    usage: 'qm tenant add <tenant> [--name <name>]',
    operands: 1,
    options: ['name'],
    check: (ctx) => {
      checkTenantId(operand(ctx, 0))
      if (ctx.args.name !== undefined) checkDisplayName('tenant name', ctx.args.name)
    },
    run: async (ctx) => {
      const id = operand(ctx, 0)
      const tenant = await (await ctx.storage()).createTenant({ id, name: ctx.args.name ?? id })
      ctx.io.stdout(`added tenant ${tenant.id} (${tenant.name})\n`)
    },
  },
  'tenant list': {
    usage: 'qm tenant list [--json]',
    operands: 0,
    options: ['json'],
    run: async (ctx) => {
      const storage = await ctx.storage()
      const tenants = await storage.listTenants()
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify(tenants.map(publicTenant), null, 2) + '\n')
      if (tenants.length === 0) {
        const where = 'path' in storage && typeof storage.path === 'string' ? storage.path : `the ${storage.kind} store`
        return ctx.io.stderr(`no tenants yet in ${where}\n`)
      }
      printTable(ctx.io, ['ID', 'NAME', 'CREATED'], tenants.map((t) => [t.id, t.name, isoDate(t.createdAt)]))
    },
  },  'user add': {
    usage: 'qm user add <tenant> <username> --role <role> [--name <display name>] [--password <pw>]',
    operands: 2,
    options: ['role', 'name', 'password'],
    check: (ctx) => {
      checkUsername(operand(ctx, 1))
      if (ctx.args.role === undefined) throw new UsageError(`missing --role (one of ${ROLES.join(', ')})`)
      checkRole(ctx.args.role)
      if (ctx.args.name !== undefined) checkDisplayName('display name', ctx.args.name)
    },
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      const password = await readNewPassword(ctx)
      const storage = await ctx.storage()
      // Fail on an unknown tenant or a taken name before spending a scrypt on the password.
      await requireTenant(storage, tenant)
      if (await storage.getUserByName(tenant, username)) throw duplicateUser(tenant, username)
      const user = await storage.createUser({
        tenant,
        username,
        name: ctx.args.name ?? username,
        role: ctx.args.role as Role,
        passwordHash: await hashPassword(password),
      })
      ctx.io.stdout(`added user ${user.username} (${user.id}) to tenant ${tenant} as ${user.role}\n`)
    },
  },
  'user list': {
    usage: 'qm user list <tenant> [--json]',
    operands: 1,
    options: ['json'],
    run: async (ctx) => {
      const tenant = operand(ctx, 0)
      const users = await (await ctx.storage()).listUsers(tenant)
      if (ctx.args.json) return ctx.io.stdout(JSON.stringify(users.map(publicUser), null, 2) + '\n')
      if (users.length === 0) return ctx.io.stderr(`tenant ${tenant} has no users yet\n`)
      printTable(ctx.io, ['USERNAME', 'ROLE', 'ID', 'NAME'], users.map((u) => [u.username, u.role, u.id, u.name]))
    },
  },
  'user remove': {
    usage: 'qm user remove <tenant> <username>',
    operands: 2,
    options: [],
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      await (await ctx.storage()).removeUser(tenant, username)
      ctx.io.stdout(`removed user ${username} from tenant ${tenant}\n`)
    },
  },
  'user role': {
    usage: 'qm user role <tenant> <username> <role>',
    operands: 3,
    options: [],
    check: (ctx) => checkRole(operand(ctx, 2)),
    run: async (ctx) => {
      const [tenant, username, role] = [operand(ctx, 0), operand(ctx, 1), operand(ctx, 2)]
      await (await ctx.storage()).setUserRole(tenant, username, role as Role)
      ctx.io.stdout(`user ${username} in tenant ${tenant} is now ${role}\n`)
    },
  },
  'user password': {
    usage: 'qm user password <tenant> <username> [--password <pw>]',
    operands: 2,
    options: ['password'],
    run: async (ctx) => {
      const [tenant, username] = [operand(ctx, 0), operand(ctx, 1)]
      const password = await readNewPassword(ctx)
      const storage = await ctx.storage()
      await requireTenant(storage, tenant)
      if (!(await storage.getUserByName(tenant, username))) throw unknownUser(tenant, username)
      await storage.setUserPassword(tenant, username, await hashPassword(password))
      ctx.io.stdout(`changed the password of ${username} in tenant ${tenant}\n`)
    },
  },
}
