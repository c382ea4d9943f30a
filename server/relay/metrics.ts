/** Counters and a latency histogram for GET /metrics (Prometheus text format). One per server. */

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const

export class Histogram {
  private readonly counts = BUCKETS.map(() => 0)
  private sum = 0
  private count = 0

  observe(seconds: number): void {
    this.sum += seconds
    this.count++
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.counts[i] = (this.counts[i] ?? 0) + 1
    })
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`]
    BUCKETS.forEach((le, i) => lines.push(`${name}_bucket{le="${le}"} ${this.counts[i]}`))
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`)
    return lines.join('\n')
  }
}

export class RelayMetrics {
  connectionsOpened = 0
  connectionsRefused = 0
  updatesAccepted = 0
  /** Updates of which the server undid at least one part. */
  updatesRejected = 0
  violations = 0
  /** Updates refused whole: forged client ids, oversize documents. */
  updatesRefused = 0
  protocolErrors = 0
  bytesReceived = 0
  storeFailures = 0
  /** Appends to storage: one per batch of accepted updates (group commit), one per server change. */
  storeBatches = 0
  readonly storeLatency = new Histogram()

  render(gauges: { connections: number; documents: number }): string {
    const counter = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`
    const gauge = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`
    return [
      gauge('qm_connections', 'Open WebSocket connections.', gauges.connections),
      gauge('qm_documents_loaded', 'Tenant documents in memory.', gauges.documents),
      counter('qm_connections_opened_total', 'Connections that authenticated.', this.connectionsOpened),
      counter('qm_connections_refused_total', 'Connections closed for auth or limits.', this.connectionsRefused),
      counter('qm_updates_accepted_total', 'Updates integrated, relayed and staged for storage.', this.updatesAccepted),
      counter('qm_updates_rejected_total', 'Updates of which the server undid a part.', this.updatesRejected),
      counter('qm_violations_total', 'Rule violations undone by compensation.', this.violations),
      counter('qm_updates_refused_total', 'Updates refused whole (forged client id, document too large).', this.updatesRefused),
      counter('qm_protocol_errors_total', 'Frames that could not be decoded.', this.protocolErrors),
      counter('qm_bytes_received_total', 'Bytes received on WebSocket connections.', this.bytesReceived),
      counter('qm_store_appends_total', 'Appends to storage (a batch of accepted updates, or a server change).', this.storeBatches),
      counter('qm_store_failures_total', 'Failed appends to storage.', this.storeFailures),
      this.storeLatency.render('qm_store_latency_seconds', 'Time to append a batch durably.'),
    ].join('\n') + '\n'
  }
}
