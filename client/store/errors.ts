/** Named errors of the local store: what the UI tells a person, by code. */
export type StoreErrorCode =
  /** The server could not be reached (no network, server down). */
  | 'offline'
  /** The server refused the credentials (sign in again). */
  | 'unauthorized'
  /** The server refused the request for this user's role, or the user is gone. */
  | 'forbidden'
  /** The server answered an error that is none of the above. */
  | 'http'
  /** An answer that is not what the protocol says. */
  | 'bad-response'

export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** The API's own error code (`bad-credentials`, `token-expired`, …) when there is one. */
    readonly apiCode: string | null = null,
    readonly status: number | null = null,
  ) {
    super(message)
  }
}
