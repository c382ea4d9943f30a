/**
 * Appending to a run of records costs O(1), not O(length of the run).
 *
 * Yjs merges consecutive records of one client into one struct, and for plain JSON content
 * (`ContentAny`, what the ledger holds) it does so with `this.arr = this.arr.concat(right.arr)`:
 * every merge copies the whole run. A device that writes n movements in a row (offline for a
 * shift, or a scanner in a burst) builds a run whose merges cost O(n²) on the server and on every
 * device; in the relay benchmark it was the largest single cost after storage.
 *
 * The patch pushes into the run instead, after copying it once: an array this struct did not make
 * itself (one the application passed to `insert`, one shared by `copy()`) is never changed, so
 * nothing outside sees it grow. Results are identical; `test/yjs-runs.test.ts` checks both.
 * Imported for its effect by the ledger modules, so every program that uses the ledger has it.
 */
import * as Y from 'yjs'

const OWNED = Symbol.for('quartermaster.contentAny.ownedArray')
const PATCHED = Symbol.for('quartermaster.contentAny.patched')

type Content = Y.ContentAny & { [OWNED]?: unknown[] | undefined }
const proto = Y.ContentAny.prototype as Content & { [PATCHED]?: true }

if (!proto[PATCHED]) {
  proto[PATCHED] = true
  const copy = proto.copy
  proto.copy = function (this: Content): Y.ContentAny {
    // The copy shares this array: neither may push into it from now on.
    this[OWNED] = undefined
    return copy.call(this)
  }
  proto.mergeWith = function (this: Content, right: Y.ContentAny): boolean {
    if (this[OWNED] !== this.arr) {
      this.arr = this.arr.slice()
      this[OWNED] = this.arr
    }
    const add = right.arr
    for (let i = 0; i < add.length; i++) this.arr.push(add[i])
    return true
  }
}

/** True once the patch is in place (for tests and diagnostics). */
export const runsPatched = (): boolean => proto[PATCHED] === true
