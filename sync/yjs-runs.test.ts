/**
 * [YJS-RUNS-1] The ContentAny merge patch (sync/yjs-runs.ts): identical documents and encodings,
 * and arrays the application handed to Yjs, or that a copy shares, never change.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from './ids.js'
import { runsPatched } from './yjs-runs.js'

/** What an unpatched Yjs would do: concat on every merge. */
const unpatchedMerge = function (this: Y.ContentAny, right: Y.ContentAny): boolean {
  this.arr = this.arr.concat(right.arr)
  return true
}

const withUnpatched = <T>(fn: () => T): T => {
  const proto = Y.ContentAny.prototype
  const patched = proto.mergeWith
  proto.mergeWith = unpatchedMerge
  try {
    return fn()
  } finally {
    proto.mergeWith = patched
  }
}

/** Two replicas writing runs into one array, with splits (inserts in the middle) and deletes. */
const scenario = (seed: number): { json: unknown; update: Uint8Array; stateVector: Uint8Array } => {
  const random = seededRandom(seed)
  const a = new Y.Doc()
  const b = new Y.Doc()
  a.clientID = 1
  b.clientID = 2
  for (let round = 0; round < 40; round++) {
    for (const doc of [a, b]) {
      const arr = doc.getArray<unknown>('ledger')
      const n = 1 + Math.floor(random() * 30)
      for (let i = 0; i < n; i++) {
        const r = random()
        if (r < 0.8 || arr.length === 0) arr.insert(arr.length, [{ n: i, by: doc.clientID }])
        else if (r < 0.9) arr.insert(Math.floor(random() * arr.length), [{ mid: i }])
        else arr.delete(Math.floor(random() * arr.length), 1)
      }
    }
    if (random() < 0.5) {
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    }
  }
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  expect(a.getArray('ledger').toJSON()).toEqual(b.getArray('ledger').toJSON())
  const fresh = new Y.Doc()
  Y.applyUpdate(fresh, Y.mergeUpdates([Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b)]))
  return { json: fresh.getArray('ledger').toJSON(), update: Y.encodeStateAsUpdate(a), stateVector: Y.encodeStateVector(a) }
}

describe('ContentAny runs', () => {
  it('[YJS-RUNS-1] the patch is in place', () => {
    expect(runsPatched()).toBe(true)
    expect(Y.ContentAny.prototype.mergeWith).not.toBe(unpatchedMerge)
  })

  it('[YJS-RUNS-1] 50 seeded schedules: the same document and the same bytes as unpatched Yjs', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const patched = scenario(seed)
      const plain = withUnpatched(() => scenario(seed))
      expect(patched.json, `seed ${seed}`).toEqual(plain.json)
      expect(Buffer.compare(patched.update, plain.update), `seed ${seed}`).toBe(0)
      expect(Buffer.compare(patched.stateVector, plain.stateVector), `seed ${seed}`).toBe(0)
    }
  })

  it('[YJS-RUNS-1] an array handed to insert, or shared by a copy, never changes when the run grows', () => {
    const doc = new Y.Doc()
    const arr = doc.getArray<unknown>('ledger')
    const mine = [{ n: 0 }]
    arr.insert(0, mine)
    for (let i = 1; i < 5; i++) arr.insert(arr.length, [{ n: i }])
    expect(mine).toEqual([{ n: 0 }])
    expect(arr.toJSON()).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })))

    const run = arr._start?.content as Y.ContentAny
    expect(run.arr).toHaveLength(5)
    const copy = run.copy() as Y.ContentAny
    arr.insert(arr.length, [{ n: 5 }])
    arr.insert(arr.length, [{ n: 6 }])
    expect(copy.arr).toHaveLength(5)
    expect(arr.toJSON()).toHaveLength(7)
  })
})
