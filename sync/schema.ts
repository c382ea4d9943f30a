/**
 * The tenant document's layout: top-level shared types, the fields of items and locations, and
 * the shape of a movement record. docs/SCHEMA.md describes the same thing for other languages;
 * keep the two in step.
 */

/** Bumped only by an incompatible change of layout; a client refuses to write a newer one. */
export const SCHEMA_VERSION = 1

/** Top-level shared types. Nothing else may be written at the top level. */
export const ROOT = {
  items: 'items',
  locations: 'locations',
  movements: 'movements',
  baselines: 'baselines',
  alerts: 'alerts',
  meta: 'meta',
} as const
export type RootName = (typeof ROOT)[keyof typeof ROOT]
export const ROOT_NAMES: ReadonlySet<string> = new Set(Object.values(ROOT))
/** Roots that only the server writes. */
export const SERVER_ROOTS: ReadonlySet<string> = new Set([ROOT.baselines, ROOT.alerts, ROOT.meta])

/** Item, location and user ids: short, URL-safe, and never containing the baseline separator. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
/** Movement ids are longer: they are made offline on many devices and must never collide. */
export const MOVEMENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/
export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/

/** Largest magnitude of a quantity or delta: far above any stock, far below float trouble. */
export const MAX_QUANTITY = 1_000_000_000
/** Timestamps are milliseconds since 1970; this bound is the year 2286. */
export const MAX_TIMESTAMP = 10_000_000_000_000

export type FieldSpec =
  | { readonly type: 'string'; readonly min: number; readonly max: number; readonly required: boolean }
  | { readonly type: 'integer'; readonly min: number; readonly max: number; readonly required: boolean }
  | { readonly type: 'boolean'; readonly required: boolean }

export const ITEM_FIELDS = {
  sku: { type: 'string', min: 1, max: 64, required: true },
  name: { type: 'string', min: 1, max: 200, required: true },
  unit: { type: 'string', min: 1, max: 16, required: false },
  barcode: { type: 'string', min: 1, max: 64, required: false },
  reorderPoint: { type: 'integer', min: 0, max: MAX_QUANTITY, required: false },
  reorderQty: { type: 'integer', min: 0, max: MAX_QUANTITY, required: false },
  archived: { type: 'boolean', required: false },
  createdAt: { type: 'integer', min: 0, max: MAX_TIMESTAMP, required: false },
} as const satisfies Record<string, FieldSpec>

export const LOCATION_FIELDS = {
  name: { type: 'string', min: 1, max: 100, required: true },
  archived: { type: 'boolean', required: false },
  createdAt: { type: 'integer', min: 0, max: MAX_TIMESTAMP, required: false },
} as const satisfies Record<string, FieldSpec>

export type EntityKind = 'item' | 'location'
export const ENTITY_FIELDS: Record<EntityKind, Record<string, FieldSpec>> = {
  item: ITEM_FIELDS,
  location: LOCATION_FIELDS,
}

export interface ItemFields {
  sku: string
  name: string
  unit?: string
  barcode?: string
  reorderPoint?: number
  reorderQty?: number
  archived?: boolean
  createdAt?: number
}

export interface LocationFields {
  name: string
  archived?: boolean
  createdAt?: number
}

/**
 * What each kind of movement requires. `sign` is the sign its delta must have.
 * - count: `counted` and `expected` are required and delta = counted − expected.
 * - transfer-out / transfer-in: come in pairs with the same `transfer` id, written in one transaction.
 * - restore: written only by the server when it restores a snapshot.
 * - undo: reverses one earlier movement of the same user (`undoes`), once.
 */
export const MOVEMENT_KINDS = {
  receive: { sign: 'positive', reason: false, serverOnly: false },
  pick: { sign: 'negative', reason: false, serverOnly: false },
  adjust: { sign: 'nonzero', reason: true, serverOnly: false },
  count: { sign: 'any', reason: false, serverOnly: false },
  'transfer-out': { sign: 'negative', reason: false, serverOnly: false },
  'transfer-in': { sign: 'positive', reason: false, serverOnly: false },
  restore: { sign: 'nonzero', reason: false, serverOnly: true },
  undo: { sign: 'nonzero', reason: false, serverOnly: false },
} as const satisfies Record<string, { sign: 'positive' | 'negative' | 'nonzero' | 'any'; reason: boolean; serverOnly: boolean }>
export type MovementKind = keyof typeof MOVEMENT_KINDS
export const MOVEMENT_KIND_NAMES = Object.keys(MOVEMENT_KINDS) as MovementKind[]

/** An immutable ledger record. Optional fields are absent, never null. */
export interface Movement {
  readonly id: string
  readonly item: string
  readonly location: string
  readonly delta: number
  readonly kind: MovementKind
  readonly by: string
  readonly at: number
  readonly reason?: string
  readonly note?: string
  /** count only */
  readonly counted?: number
  /** count only: what the counting device showed as on-hand at that moment */
  readonly expected?: number
  /** transfer-out / transfer-in only: the id shared by the two legs */
  readonly transfer?: string
  /** undo only: the movement this one reverses */
  readonly undoes?: string
}

export const MOVEMENT_FIELDS: Record<keyof Movement, FieldSpec> = {
  id: { type: 'string', min: 8, max: 64, required: true },
  item: { type: 'string', min: 1, max: 64, required: true },
  location: { type: 'string', min: 1, max: 64, required: true },
  delta: { type: 'integer', min: -MAX_QUANTITY, max: MAX_QUANTITY, required: true },
  kind: { type: 'string', min: 1, max: 16, required: true },
  by: { type: 'string', min: 1, max: 128, required: true },
  at: { type: 'integer', min: 0, max: MAX_TIMESTAMP, required: true },
  reason: { type: 'string', min: 1, max: 200, required: false },
  note: { type: 'string', min: 1, max: 500, required: false },
  counted: { type: 'integer', min: 0, max: MAX_QUANTITY, required: false },
  expected: { type: 'integer', min: -MAX_QUANTITY, max: MAX_QUANTITY, required: false },
  transfer: { type: 'string', min: 8, max: 64, required: false },
  undoes: { type: 'string', min: 8, max: 64, required: false },
}

/** Key of a baseline: the quantity folded from old movements of one item at one location. */
export const baselineKey = (item: string, location: string): string => `${item}@${location}`
export const parseBaselineKey = (key: string): { item: string; location: string } | null => {
  const at = key.indexOf('@')
  if (at <= 0 || at === key.length - 1) return null
  return { item: key.slice(0, at), location: key.slice(at + 1) }
}

/** Checks one value against its spec; returns what is wrong in plain words, or null. */
export const checkField = (name: string, spec: FieldSpec, value: unknown): string | null => {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return `${name} must be text`
      if (value.length < spec.min || value.length > spec.max) {
        return `${name} must be ${spec.min} to ${spec.max} characters long (got ${value.length})`
      }
      if (spec.min > 0 && value.trim().length === 0) return `${name} must not be blank`
      return null
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${name} must be a whole number`
      if (value < spec.min || value > spec.max) return `${name} must be between ${spec.min} and ${spec.max} (got ${value})`
      return null
    case 'boolean':
      return typeof value === 'boolean' ? null : `${name} must be true or false`
  }
}
