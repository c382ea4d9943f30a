/** Why a login, token or refresh was refused. The HTTP layer maps every code to a 401. */
export type AuthErrorCode =
  /** The token's `exp` has passed: refresh (access token) or log in again (refresh token). */
  | 'expired'
  /** Not a token we signed: bad signature, wrong algorithm, malformed, or claims missing. */
  | 'invalid'
  /** A refresh token used as an access token, or the other way round. */
  | 'wrong-type'
  /** A valid refresh token for a user that was removed or whose password changed since. */
  | 'revoked'
  /** Unknown tenant, unknown user or wrong password; deliberately not told apart. */
  | 'bad-credentials'

export class AuthError extends Error {
  override readonly name = 'AuthError'
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
