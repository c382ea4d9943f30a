/**
 * Periodic snapshots: every interval, each tenant whose document changed since its last scheduled
 * snapshot gets a new one, and old snapshots are pruned by the retention policy.
 */
import type { DutyLeases } from '../scale/leases.js'
import type { Storage } from '../storage/types.js'
import type { SnapshotService } from './service.js'

export interface SnapshotSchedule {
  /** How often; 0 turns scheduled snapshots off. @default 60 minutes (SNAPSHOT_INTERVAL_MINUTES) */
  readonly intervalMs: number
}

export class SnapshotScheduler {
  private timer: NodeJS.Timeout | null = null
  /** Document sequence number at each tenant's last scheduled snapshot, to skip unchanged tenants. */
  private readonly lastSeq = new Map<string, number>()
  private running: Promise<void> | null = null

  constructor(
    private readonly storage: Storage,
    private readonly snapshots: SnapshotService,
    private readonly leases: DutyLeases,
    private readonly schedule: SnapshotSchedule,
  ) {}

  start(): void {
    if (this.schedule.intervalMs <= 0 || this.timer) return
    this.timer = setInterval(() => void this.runOnce(), this.schedule.intervalMs)
    this.timer.unref()
  }

  /** One pass over every tenant; errors are logged per tenant and never stop the others. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        for (const tenant of await this.storage.listTenants()) {
          try {
            // With several instances, the one holding the tenant's duty lease takes its snapshots.
            if (!(await this.leases.holds(tenant.id))) continue
            const { lastSeq } = await this.storage.loadDocument(tenant.id)
            if (lastSeq === 0 || this.lastSeq.get(tenant.id) === lastSeq) continue
            await this.snapshots.create(tenant.id, { trigger: 'schedule', by: null, reason: 'scheduled' })
            this.lastSeq.set(tenant.id, lastSeq)
            await this.snapshots.prune(tenant.id)
          } catch (err) {
            console.error(`[snapshots] scheduled snapshot of ${tenant.id} failed`, err)
          }
        }
      } finally {
        this.running = null
      }
    })()
    return this.running
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }
}
