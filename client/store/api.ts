/**
 * The REST calls the app makes besides sync (docs/PROTOCOL.md, HTTP API): history pages, alerts,
 * snapshots and restore, users, CSV, and the first download of a large document with progress.
 * Every call takes the current access token from the store, so a refresh shows at once.
 */
import type { AlertDetail, AlertKind, AlertSeverity } from '../../sync/alerts.js'
import type { Role } from '../../sync/origin.js'
import type { Movement } from '../../sync/schema.js'
import { StoreError } from './errors.js'
import { readApiError, request } from './session.js'

export interface AlertRecordJson {
  readonly id: string
  readonly key: string
  readonly kind: AlertKind
  readonly severity: AlertSeverity
  readonly item: string
  readonly location: string | null
  readonly sku: string
  readonly detail: AlertDetail
  readonly status: 'open' | 'resolved'
  readonly openedAt: number
  readonly resolvedAt: number | null
  readonly acknowledgedAt: number | null
  readonly acknowledgedBy: string | null
}

export interface SnapshotMeta {
  readonly id: string
  readonly createdAt: number
  readonly trigger: 'schedule' | 'manual' | 'pre-restore'
  readonly createdBy: string | null
  readonly reason: string
  readonly itemCount: number
  readonly totalUnits: number
  readonly byteSize: number
}

export interface SnapshotContents {
  readonly snapshot: SnapshotMeta
  readonly items: ReadonlyArray<{ id: string; sku: string; name: string; archived: boolean; onHand: number }>
  readonly locations: ReadonlyArray<{ id: string; name: string; archived: boolean }>
}

export interface SnapshotDiff {
  readonly snapshot: SnapshotMeta
  readonly itemsAdded: ReadonlyArray<{ id: string; sku?: string; name?: string }>
  readonly itemsRemoved: ReadonlyArray<{ id: string; sku?: string; name?: string }>
  readonly fieldsChanged: ReadonlyArray<{ kind: string; id: string; label: string; field: string; now: unknown; snapshot: unknown }>
  readonly locationsAdded: ReadonlyArray<{ id: string; name?: string }>
  readonly locationsRemoved: ReadonlyArray<{ id: string; name?: string }>
  readonly quantities: ReadonlyArray<{ item: string; sku: string; location: string; locationName: string; now: number; snapshot: number; delta: number }>
  readonly unitsDelta: number
}

export interface UserJson {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly role: Role
}

export interface ImportSummary {
  readonly rows: number
  readonly itemsCreated: number
  readonly itemsUpdated: number
  readonly locationsCreated: number
  readonly movements: number
}

/** 422 from an import: nothing was applied; the rows say why. */
export class ImportRefused extends Error {
  override readonly name = 'ImportRefused'
  constructor(readonly rows: ReadonlyArray<{ row: number; errors: string[] }>) {
    super(`nothing was imported: ${rows.length} row(s) have problems`)
  }
}

export type Progress = (loaded: number, total: number | null) => void

export interface TenantApiOptions {
  readonly serverUrl: string
  readonly tenant: string
  readonly token: () => string
  readonly fetch?: typeof fetch
}

export class TenantApi {
  private readonly fetchFn: typeof fetch
  constructor(private readonly options: TenantApiOptions) {
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init))
  }

  private url(path: string): string {
    return `${this.options.serverUrl}/api/tenants/${encodeURIComponent(this.options.tenant)}${path}`
  }

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token()}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(this.fetchFn, this.url(path), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    if (!res.ok) throw await readApiError(res)
    return res
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.call(method, path, body)).json()) as T
  }

  movements(item: string, before: string | null, limit = 100): Promise<{ movements: Movement[]; next: string | null }> {
    const q = new URLSearchParams({ item, limit: String(limit) })
    if (before !== null) q.set('before', before)
    return this.json('GET', `/movements?${q.toString()}`)
  }

  alerts(status: 'open' | 'resolved' | 'all' = 'all', limit = 100): Promise<{ alerts: AlertRecordJson[] }> {
    return this.json('GET', `/alerts?status=${status}&limit=${limit}`)
  }

  acknowledge(id: string): Promise<{ alert: AlertRecordJson }> {
    return this.json('POST', `/alerts/${encodeURIComponent(id)}/ack`)
  }

  snapshots(): Promise<{ snapshots: SnapshotMeta[] }> {
    return this.json('GET', '/snapshots?limit=50')
  }

  createSnapshot(reason: string): Promise<SnapshotMeta> {
    return this.json('POST', '/snapshots', { reason })
  }

  snapshot(id: string): Promise<SnapshotContents> {
    return this.json('GET', `/snapshots/${encodeURIComponent(id)}`)
  }

  diff(id: string): Promise<SnapshotDiff> {
    return this.json('GET', `/snapshots/${encodeURIComponent(id)}/diff`)
  }

  restore(id: string): Promise<{ diff: SnapshotDiff; movementsWritten: number }> {
    return this.json('POST', `/snapshots/${encodeURIComponent(id)}/restore`)
  }

  users(): Promise<{ users: UserJson[] }> {
    return this.json('GET', '/users')
  }

  async exportCsv(): Promise<string> {
    return (await this.call('GET', '/export.csv')).text()
  }

  /** Sends a CSV file; `progress` sees the upload (XMLHttpRequest in the browser: fetch cannot). */
  async importCsv(text: string, progress?: Progress): Promise<ImportSummary> {
    const res =
      progress && typeof XMLHttpRequest !== 'undefined'
        ? await this.xhrPost('/import', text, progress)
        : await request(this.fetchFn, this.url('/import'), {
            method: 'POST',
            headers: { authorization: `Bearer ${this.options.token()}`, 'content-type': 'text/csv' },
            body: text,
          })
    if (res.status === 422) {
      const body = (await res.json()) as { rows?: Array<{ row: number; errors: string[] }> }
      throw new ImportRefused(body.rows ?? [])
    }
    if (!res.ok) throw await readApiError(res)
    return ((await res.json()) as { imported: ImportSummary }).imported
  }

  private xhrPost(path: string, body: string, progress: Progress): Promise<Response> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open('POST', this.url(path))
      xhr.setRequestHeader('authorization', `Bearer ${this.options.token()}`)
      xhr.setRequestHeader('content-type', 'text/csv')
      xhr.upload.onprogress = (e) => progress(e.loaded, e.lengthComputable ? e.total : null)
      xhr.onload = () => resolve(new Response(xhr.responseText, { status: xhr.status, headers: { 'content-type': 'application/json' } }))
      xhr.onerror = () => reject(new StoreError('offline', 'the server cannot be reached'))
      xhr.send(body)
    })
  }

  /** The whole document as one Yjs update, reading the body in chunks to report progress. */
  async document(progress: Progress): Promise<Uint8Array> {
    const res = await this.call('GET', '/document')
    const total = Number(res.headers.get('content-length') ?? NaN)
    const known = Number.isSafeInteger(total) && total > 0 ? total : null
    if (!res.body) return new Uint8Array(await res.arrayBuffer())
    const reader = res.body.getReader()
    const chunks: Uint8Array[] = []
    let loaded = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      loaded += value.byteLength
      progress(loaded, known)
    }
    const out = new Uint8Array(loaded)
    let at = 0
    for (const c of chunks) {
      out.set(c, at)
      at += c.byteLength
    }
    return out
  }
}
