/** Stock status: a pure derivation shared by the server's alerts and the client's offline view. */
export type StockStatus = 'ok' | 'low' | 'out' | 'negative'
export const STOCK_STATUSES: readonly StockStatus[] = ['ok', 'low', 'out', 'negative']

/**
 * negative: below zero (oversold or miscounted; allowed, because offline devices cannot prevent it)
 * out: exactly zero; low: above zero and at or under the reorder point; ok: above the reorder point.
 */
export const stockStatus = (onHand: number, reorderPoint: number): StockStatus => {
  if (onHand < 0) return 'negative'
  if (onHand === 0) return 'out'
  if (onHand <= reorderPoint) return 'low'
  return 'ok'
}
