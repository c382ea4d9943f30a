/** A progress bar; with no known total it runs as an activity bar. */
export function ProgressBar({ value, max, label }: { value: number; max: number | null; label: string }) {
  return max === null ? (
    <progress className="progress" aria-label={label} />
  ) : (
    <progress className="progress" aria-label={label} value={value} max={max} />
  )
}
