/** JSON errors: every API error is `{ error: { code, message } }` with a fitting status. */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const apiError = (
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
) => c.json({ error: { code, message }, ...extra }, status)
