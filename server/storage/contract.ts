/**
 * The Storage contract: one suite that every implementation (memory, SQLite, later Postgres) must
 * pass. Call `storageContract(name, make)` from a test file; `make` returns a fresh, empty storage.
 * Test names cite the rule IDs in docs/SPEC.md.
 *
 * This module imports vitest, so it belongs to tests only (keep it out of the production build).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Role } from '../../sync/origin.js'
import { StorageError, type Storage } from './types.js'
import { alertContract } from './contract-alerts.js'
import { snapshotContract } from './contract-snapshots.js'

export interface StorageFixture {
  readonly storage: Storage
  /** Closes every handle the fixture opened and removes what it created. */
  cleanup(): Promise<void>
  /**
   * Opens the same store again after the test closed `storage` (persistent stores only). The
   * fixture's cleanup closes the reopened handle too.
   */
  reopen?(): Promise<Storage>
}

export interface StorageContractOptions {
  /** Runs the close-and-reopen tests; `make` must then return a fixture with `reopen`. */
  readonly persistent?: boolean
}

const update = (seed: number, length = 16): Uint8Array => {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i) & 0xff
  return out
}

/** Resolves to the StorageError a promise rejected with, failing the test if it did not. */
const storageError = async (promise: Promise<unknown>): Promise<StorageError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(StorageError)
  return error as StorageError
}

const user = (tenant: string, username: string, role: Role = 'editor') => ({
  tenant,
  username,
  name: `${username} (display)`,
  role,
  passwordHash: `scrypt$test$${username}`,
})

export const storageContract = (
  name: string,
  make: () => Promise<StorageFixture>,
  options: StorageContractOptions = {},
): void => {
  describe(`Storage contract: ${name}`, () => {
    let fixture: StorageFixture
    let storage: Storage

    beforeEach(async () => {
      fixture = await make()
      storage = fixture.storage
      await storage.createTenant({ id: 'acme', name: 'Acme Tools' })
    })
    afterEach(async () => {
      await fixture.cleanup()
    })

    /** Closes the storage and opens the same store again. */
    const reopen = async (): Promise<void> => {
      if (!fixture.reopen) throw new Error(`${name} is declared persistent but its fixture has no reopen()`)
      await storage.close()
      storage = await fixture.reopen()
    }
    // Close-and-reopen tests exist only for stores that persist; an in-memory store does not get them
    // (rather than skipping them, which would read as a defect in the test report).
    const persistentIt = (name: string, fn: () => Promise<void>) => {
      if (options.persistent === true) it(name, fn)
    }

    describe('documents', () => {
      it('[STORE-2] a new tenant starts with an empty document', async () => {
        expect(await storage.loadDocument('acme')).toEqual({ state: null, updates: [], compactedThrough: 0, lastSeq: 0 })
        expect(await storage.documentSize('acme')).toBe(0)
      })

      it('[STORE-2] appended updates get increasing sequence numbers and load in append order', async () => {
        const seqs = []
        for (let i = 1; i <= 5; i++) seqs.push(await storage.appendUpdate('acme', update(i, 10 + i)))
        expect(seqs).toEqual([1, 2, 3, 4, 5])
        const doc = await storage.loadDocument('acme')
        expect(doc.updates).toEqual([1, 2, 3, 4, 5].map((i) => update(i, 10 + i)))
        expect(doc.lastSeq).toBe(5)
        expect(doc.compactedThrough).toBe(0)
        expect(doc.state).toBeNull()
      })

      it('[STORE-2] concurrent appends each get a distinct sequence number and all are stored', async () => {
        const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => storage.appendUpdate('acme', update(i))))
        expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
        const doc = await storage.loadDocument('acme')
        // Load order is seq order: the update that got seq k is at index k - 1.
        seqs.forEach((seq, i) => expect(doc.updates[seq - 1]).toEqual(update(i)))
      })

      persistentIt('[STORE-1] an appended update survives close and reopen', async () => {
        const seq = await storage.appendUpdate('acme', update(7, 100))
        await reopen()
        const doc = await storage.loadDocument('acme')
        expect(doc.updates).toEqual([update(7, 100)])
        expect(doc.lastSeq).toBe(seq)
      })

      persistentIt('[STORE-1] compacted state, later updates and the sequence survive close and reopen', async () => {
        for (let i = 1; i <= 4; i++) await storage.appendUpdate('acme', update(i))
        await storage.compactDocument('acme', update(99, 40), 3)
        await reopen()
        expect(await storage.loadDocument('acme')).toEqual({
          state: update(99, 40),
          updates: [update(4)],
          compactedThrough: 3,
          lastSeq: 4,
        })
        expect(await storage.appendUpdate('acme', update(5))).toBe(5)
        expect(await storage.documentSize('acme')).toBe(40 + 16 + 16)
      })

      it('[STORE-3] compaction replaces exactly the updates up to throughSeq and keeps later ones', async () => {
        for (let i = 1; i <= 6; i++) await storage.appendUpdate('acme', update(i))
        await storage.compactDocument('acme', update(100, 30), 4)
        expect(await storage.loadDocument('acme')).toEqual({
          state: update(100, 30),
          updates: [update(5), update(6)],
          compactedThrough: 4,
          lastSeq: 6,
        })
        // A second compaction replaces the first state and folds more updates.
        await storage.compactDocument('acme', update(101, 31), 5)
        expect(await storage.loadDocument('acme')).toEqual({
          state: update(101, 31),
          updates: [update(6)],
          compactedThrough: 5,
          lastSeq: 6,
        })
      })

      it('[STORE-3] an update appended while the compactor worked is kept', async () => {
        await storage.appendUpdate('acme', update(1))
        await storage.appendUpdate('acme', update(2))
        const seen = await storage.loadDocument('acme') // the compactor reads …
        await storage.appendUpdate('acme', update(3)) // … a device writes meanwhile …
        await storage.compactDocument('acme', update(50), seen.lastSeq) // … and the fold lands.
        const doc = await storage.loadDocument('acme')
        expect(doc.updates).toEqual([update(3)])
        expect(doc.compactedThrough).toBe(2)
        expect(doc.lastSeq).toBe(3)
      })

      it('[STORE-3] sequence numbers keep increasing after every update was compacted', async () => {
        await storage.appendUpdate('acme', update(1))
        await storage.appendUpdate('acme', update(2))
        await storage.compactDocument('acme', update(50), 2)
        expect(await storage.loadDocument('acme')).toEqual({ state: update(50), updates: [], compactedThrough: 2, lastSeq: 2 })
        expect(await storage.appendUpdate('acme', update(3))).toBe(3)
      })

      it('[STORE-4] compaction never moves backwards or past the last update', async () => {
        for (let i = 1; i <= 3; i++) await storage.appendUpdate('acme', update(i))
        expect((await storageError(storage.compactDocument('acme', update(50), 4))).code).toBe('invalid')
        await storage.compactDocument('acme', update(50), 2)
        expect((await storageError(storage.compactDocument('acme', update(51), 1))).code).toBe('invalid')
        expect((await storageError(storage.compactDocument('acme', update(51), 2.5))).code).toBe('invalid')
        expect((await storageError(storage.compactDocument('acme', new Uint8Array(), 3))).code).toBe('invalid')
        // Nothing changed.
        expect(await storage.loadDocument('acme')).toEqual({ state: update(50), updates: [update(3)], compactedThrough: 2, lastSeq: 3 })
      })

      it('[STORE-5] documentSize counts the compacted state plus the remaining updates', async () => {
        await storage.appendUpdate('acme', update(1, 10))
        await storage.appendUpdate('acme', update(2, 20))
        await storage.appendUpdate('acme', update(3, 30))
        expect(await storage.documentSize('acme')).toBe(60)
        await storage.compactDocument('acme', update(9, 25), 2)
        expect(await storage.documentSize('acme')).toBe(25 + 30)
        await storage.compactDocument('acme', update(9, 7), 3)
        expect(await storage.documentSize('acme')).toBe(7)
      })

      it('[STORE-6] stored bytes do not change when the caller reuses its buffer', async () => {
        const buffer = update(1)
        await storage.appendUpdate('acme', buffer)
        buffer.fill(0)
        const loaded = await storage.loadDocument('acme')
        expect(loaded.updates[0]).toEqual(update(1))
        loaded.updates[0]?.fill(0)
        expect((await storage.loadDocument('acme')).updates[0]).toEqual(update(1))
      })

      it('[STORE-7] document operations on an unknown tenant fail with not-found', async () => {
        for (const attempt of [
          () => storage.loadDocument('nope'),
          () => storage.appendUpdate('nope', update(1)),
          () => storage.compactDocument('nope', update(1), 0),
          () => storage.documentSize('nope'),
        ]) {
          const error = await storageError(attempt())
          expect(error.code).toBe('not-found')
          expect(error.message).toContain('nope')
        }
      })

      it('[STORE-8] an empty update is refused as invalid and not stored', async () => {
        expect((await storageError(storage.appendUpdate('acme', new Uint8Array()))).code).toBe('invalid')
        expect((await storage.loadDocument('acme')).lastSeq).toBe(0)
      })

      it('[STORE-9] a closed storage refuses calls with unavailable; closing twice is harmless', async () => {
        await storage.close()
        await storage.close()
        for (const attempt of [
          () => storage.loadDocument('acme'),
          () => storage.appendUpdate('acme', update(1)),
          () => storage.getTenant('acme'),
          () => storage.listTenants(),
          () => storage.createUser(user('acme', 'alice')),
          () => storage.claimClientId('acme', 1, 'u_1'),
        ]) {
          expect((await storageError(attempt())).code).toBe('unavailable')
        }
      })
    })

    describe('tenants', () => {
      it('[DIR-1] a created tenant can be read back and is listed in id order', async () => {
        const zulu = await storage.createTenant({ id: 'zulu-9', name: 'Zulu' })
        const beta = await storage.createTenant({ id: 'beta', name: 'Beta Co' })
        expect(zulu).toMatchObject({ id: 'zulu-9', name: 'Zulu' })
        expect(typeof zulu.createdAt).toBe('number')
        expect(await storage.getTenant('beta')).toEqual(beta)
        expect(await storage.getTenant('missing')).toBeUndefined()
        expect((await storage.listTenants()).map((t) => t.id)).toEqual(['acme', 'beta', 'zulu-9'])
      })

      it('[DIR-2] creating a tenant that exists fails with conflict and changes nothing', async () => {
        const error = await storageError(storage.createTenant({ id: 'acme', name: 'Other' }))
        expect(error.code).toBe('conflict')
        expect(error.message).toContain('acme')
        expect((await storage.getTenant('acme'))?.name).toBe('Acme Tools')
      })

      it('[DIR-3] an invalid tenant id or name is refused as invalid', async () => {
        for (const id of ['', 'Acme', '-acme', 'a b', 'a'.repeat(64), 'acme_1', 'ä']) {
          const error = await storageError(storage.createTenant({ id, name: 'X' }))
          expect(error.code).toBe('invalid')
          expect(error.message).toContain('tenant id')
        }
        expect((await storageError(storage.createTenant({ id: 'ok', name: '  ' }))).code).toBe('invalid')
        expect((await storageError(storage.createTenant({ id: 'ok', name: 'a\u0000b' }))).code).toBe('invalid')
        expect(await storage.createTenant({ id: 'a'.repeat(63), name: 'Longest' })).toMatchObject({ id: 'a'.repeat(63) })
        expect((await storage.listTenants()).map((t) => t.id)).toEqual(['a'.repeat(63), 'acme'])
      })
    })

    describe('users', () => {
      it('[DIR-4] a created user can be read by name and by id, and is listed', async () => {
        const alice = await storage.createUser(user('acme', 'alice', 'admin'))
        const bob = await storage.createUser(user('acme', 'Bob', 'viewer'))
        expect(alice).toMatchObject({ tenant: 'acme', username: 'alice', name: 'alice (display)', role: 'admin', passwordHash: 'scrypt$test$alice' })
        expect(alice.id).toMatch(/^u_[a-z0-9]+$/)
        expect(await storage.getUserByName('acme', 'alice')).toEqual(alice)
        expect(await storage.getUserByName('acme', 'BOB')).toEqual(bob)
        expect(await storage.getUser('acme', alice.id)).toEqual(alice)
        expect(await storage.getUser('acme', 'u_missing')).toBeUndefined()
        expect(await storage.getUserByName('acme', 'carol')).toBeUndefined()
        expect(await storage.getUserByName('nope', 'alice')).toBeUndefined()
        expect((await storage.listUsers('acme')).map((u) => u.username)).toEqual(['alice', 'Bob'])
      })

      it('[DIR-5] a duplicate username in a tenant fails with conflict, whatever its case', async () => {
        await storage.createUser(user('acme', 'alice'))
        for (const username of ['alice', 'ALICE', 'Alice']) {
          const error = await storageError(storage.createUser(user('acme', username)))
          expect(error.code).toBe('conflict')
          expect(error.message).toContain(username)
        }
        expect(await storage.listUsers('acme')).toHaveLength(1)
      })

      it('[DIR-6] user ids are generated, distinct, and not reused after a removal', async () => {
        const first = await storage.createUser(user('acme', 'alice'))
        await storage.removeUser('acme', 'alice')
        const second = await storage.createUser(user('acme', 'alice'))
        const other = await storage.createUser(user('acme', 'bob'))
        expect(new Set([first.id, second.id, other.id]).size).toBe(3)
        expect(await storage.getUser('acme', first.id)).toBeUndefined()
      })

      it('[DIR-7] creating or listing users in an unknown tenant fails with not-found', async () => {
        expect((await storageError(storage.createUser(user('nope', 'alice')))).code).toBe('not-found')
        expect((await storageError(storage.listUsers('nope'))).code).toBe('not-found')
      })

      it('[DIR-8] an invalid username, role or display name is refused as invalid', async () => {
        for (const username of ['', 'a b', 'a/b', 'x'.repeat(65), 'ålice']) {
          const error = await storageError(storage.createUser(user('acme', username)))
          expect(error.code).toBe('invalid')
          expect(error.message).toContain('username')
        }
        const badRole = await storageError(storage.createUser({ ...user('acme', 'alice'), role: 'owner' as Role }))
        expect(badRole.code).toBe('invalid')
        expect(badRole.message).toContain('admin, editor, viewer')
        expect((await storageError(storage.createUser({ ...user('acme', 'alice'), name: '' }))).code).toBe('invalid')
        expect((await storageError(storage.createUser({ ...user('acme', 'alice'), passwordHash: '' }))).code).toBe('invalid')
        expect(await storage.listUsers('acme')).toEqual([])
      })

      it('[DIR-9] a role or password change shows on the next read', async () => {
        const alice = await storage.createUser(user('acme', 'alice', 'editor'))
        await storage.setUserRole('acme', 'alice', 'viewer')
        await storage.setUserPassword('acme', 'ALICE', 'scrypt$new')
        expect(await storage.getUser('acme', alice.id)).toEqual({ ...alice, role: 'viewer', passwordHash: 'scrypt$new' })
        expect((await storageError(storage.setUserRole('acme', 'alice', 'root' as Role))).code).toBe('invalid')
        expect((await storage.getUser('acme', alice.id))?.role).toBe('viewer')
      })

      it('[DIR-10] changing or removing an unknown user fails with not-found', async () => {
        for (const [attempt, mentions] of [
          [() => storage.setUserRole('acme', 'ghost', 'admin'), 'ghost'],
          [() => storage.setUserPassword('acme', 'ghost', 'x'), 'ghost'],
          [() => storage.removeUser('acme', 'ghost'), 'ghost'],
          [() => storage.setUserRole('nope', 'alice', 'admin'), 'nope'],
          [() => storage.removeUser('nope', 'alice'), 'nope'],
        ] as const) {
          const error = await storageError(attempt())
          expect(error.code).toBe('not-found')
          expect(error.message).toContain(mentions)
        }
      })

      it('[DIR-11] a removed user is gone, but the client ids they claimed stay theirs', async () => {
        const alice = await storage.createUser(user('acme', 'alice'))
        await storage.claimClientId('acme', 42, alice.id)
        await storage.removeUser('acme', 'Alice')
        expect(await storage.getUserByName('acme', 'alice')).toBeUndefined()
        expect(await storage.getUser('acme', alice.id)).toBeUndefined()
        expect(await storage.listUsers('acme')).toEqual([])
        const newcomer = await storage.createUser(user('acme', 'alice'))
        expect(await storage.claimClientId('acme', 42, newcomer.id)).toBe(alice.id)
      })

      persistentIt('[DIR-12] tenants, users, changes and client ids survive close and reopen', async () => {
        const alice = await storage.createUser(user('acme', 'alice', 'editor'))
        const bob = await storage.createUser(user('acme', 'bob', 'viewer'))
        await storage.setUserRole('acme', 'alice', 'admin')
        await storage.removeUser('acme', 'bob')
        await storage.claimClientId('acme', 7, alice.id)
        await reopen()
        expect(await storage.getTenant('acme')).toMatchObject({ id: 'acme', name: 'Acme Tools' })
        expect(await storage.listUsers('acme')).toEqual([{ ...alice, role: 'admin' }])
        expect(await storage.getUser('acme', bob.id)).toBeUndefined()
        expect(await storage.clientIdOwners('acme', [7])).toEqual(new Map([[7, alice.id]]))
        const error = await storageError(storage.createUser(user('acme', 'alice')))
        expect(error.code).toBe('conflict')
      })
    })

    describe('client ids', () => {
      it('[DIR-13] the first user to claim a client id owns it; later claims get the first owner', async () => {
        expect(await storage.claimClientId('acme', 1001, 'u_alice')).toBe('u_alice')
        expect(await storage.claimClientId('acme', 1001, 'u_alice')).toBe('u_alice')
        expect(await storage.claimClientId('acme', 1001, 'u_mallory')).toBe('u_alice')
        expect(await storage.claimClientId('acme', 0, 'u_mallory')).toBe('u_mallory')
        expect(await storage.claimClientId('acme', 0xffff_ffff, 'u_bob')).toBe('u_bob')
      })

      it('[DIR-13] concurrent claims of one client id agree on a single owner', async () => {
        const owners = await Promise.all(
          Array.from({ length: 20 }, (_, i) => storage.claimClientId('acme', 5, `u_${i}`)),
        )
        expect(new Set(owners).size).toBe(1)
        expect(await storage.clientIdOwners('acme', [5])).toEqual(new Map([[5, owners[0]]]))
      })

      it('[DIR-14] clientIdOwners reports only the claimed ids', async () => {
        await storage.claimClientId('acme', 1, 'u_a')
        await storage.claimClientId('acme', 2, 'u_b')
        expect(await storage.clientIdOwners('acme', [1, 2, 3])).toEqual(
          new Map([
            [1, 'u_a'],
            [2, 'u_b'],
          ]),
        )
        expect(await storage.clientIdOwners('acme', [])).toEqual(new Map())
        expect(await storage.clientIdOwners('nope', [1])).toEqual(new Map())
      })

      it('[DIR-15] a claim in an unknown tenant fails with not-found; a bad client id is invalid', async () => {
        expect((await storageError(storage.claimClientId('nope', 1, 'u_a'))).code).toBe('not-found')
        for (const clientId of [-1, 1.5, Number.NaN, 2 ** 53]) {
          expect((await storageError(storage.claimClientId('acme', clientId, 'u_a'))).code).toBe('invalid')
        }
      })
    })

    snapshotContract(() => storage, { it: persistentIt, reopen })
    alertContract(() => storage, { it: persistentIt, reopen })

    describe('isolation', () => {
      it('[ISO-1] documents, users and client ids of one tenant never show in another', async () => {
        await storage.createTenant({ id: 'globex', name: 'Globex' })
        await storage.appendUpdate('acme', update(1))
        await storage.appendUpdate('acme', update(2))
        expect(await storage.appendUpdate('globex', update(3))).toBe(1)
        await storage.compactDocument('acme', update(9), 2)
        expect(await storage.loadDocument('globex')).toEqual({ state: null, updates: [update(3)], compactedThrough: 0, lastSeq: 1 })
        expect(await storage.documentSize('globex')).toBe(16)

        const acmeAlice = await storage.createUser(user('acme', 'alice', 'admin'))
        const globexAlice = await storage.createUser(user('globex', 'alice', 'viewer'))
        expect(acmeAlice.id).not.toBe(globexAlice.id)
        expect(await storage.getUser('globex', acmeAlice.id)).toBeUndefined()
        await storage.setUserRole('globex', 'alice', 'editor')
        expect((await storage.getUserByName('acme', 'alice'))?.role).toBe('admin')
        await storage.removeUser('globex', 'alice')
        expect(await storage.getUserByName('acme', 'alice')).toEqual(acmeAlice)

        await storage.claimClientId('acme', 77, acmeAlice.id)
        expect(await storage.clientIdOwners('globex', [77])).toEqual(new Map())
        expect(await storage.claimClientId('globex', 77, 'u_other')).toBe('u_other')
        expect(await storage.clientIdOwners('acme', [77])).toEqual(new Map([[77, acmeAlice.id]]))
      })
    })
  })
}
