/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends. */

export class CsvError extends Error {
  override readonly name = 'CsvError'
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`)
  }
}

/** Parses CSV text into rows of fields. A trailing empty line is ignored. */
export const parseCsv = (text: string): string[][] => {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  let quoteLine = 1 // where the open quoted field began, for the error
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0 // a byte order mark from spreadsheet exports
  const endField = () => {
    row.push(field)
    field = ''
  }
  const endRow = () => {
    endField()
    rows.push(row)
    row = []
  }
  for (; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
    } else if (ch === '"') {
      if (field.length > 0) throw new CsvError(line, 'a quote may only start a field')
      quoted = true
      quoteLine = line
    } else if (ch === ',') endField()
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      endRow()
      line++
    } else field += ch
  }
  if (quoted) throw new CsvError(quoteLine, 'a quoted field is not closed')
  if (field.length > 0 || row.length > 0) endRow()
  return rows
}

const needsQuotes = /[",\r\n]|^\s|\s$/
/** Spreadsheets run cells that start with these as formulas; a leading quote keeps them text. */
const formulaStart = /^[=+\-@\t\r]/
/** What the guard writes: a formula start behind quotes. Text that already looks so is guarded too. */
const guarded = /^'+[=+\-@\t\r]/

export const formatCsvField = (value: string | number | boolean | undefined | null): string => {
  if (value === undefined || value === null) return ''
  let text = String(value)
  if (typeof value === 'string' && (formulaStart.test(text) || guarded.test(text))) text = `'${text}`
  return needsQuotes.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Undoes the export's formula guard, so that an exported cell imports back as it was. */
export const unguardCsvField = (text: string): string => (guarded.test(text) ? text.slice(1) : text)

export const formatCsv = (rows: ReadonlyArray<ReadonlyArray<string | number | boolean | undefined | null>>): string =>
  rows.map((r) => r.map(formatCsvField).join(',')).join('\r\n') + '\r\n'
