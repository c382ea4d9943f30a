import type { StockStatus } from '../../../sync/status.js'
import { STATUS_LABEL } from '../format.js'

export function StatusBadge({ status, archived }: { status: StockStatus; archived?: boolean }) {
  if (archived) return <span className="status archived">Archived</span>
  return (
    <span className={`status ${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  )
}
