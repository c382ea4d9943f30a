/** The bytes of the i-th update in the SIGKILL test, shared by the writer and the checker. */
export const killTestUpdate = (i: number): Uint8Array => {
  const out = new Uint8Array(64 + (i % 200))
  for (let k = 0; k < out.length; k++) out[k] = (i * 7 + k) & 0xff
  return out
}
