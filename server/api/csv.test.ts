/** RFC 4180 parsing and the spreadsheet-safe formatting of export cells. */
import { describe, expect, it } from 'vitest'
import { CsvError, formatCsv, formatCsvField, parseCsv, unguardCsvField } from './csv.js'

describe('parseCsv', () => {
  it('[CSV-1] splits plain fields and rows; a trailing line end adds no empty row', () => {
    expect(parseCsv('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ])
    expect(parseCsv('a,b')).toEqual([['a', 'b']])
    expect(parseCsv('a,,c,\n')).toEqual([['a', '', 'c', '']])
    expect(parseCsv('')).toEqual([])
  })

  it('[CSV-2] quoted fields keep commas, and a doubled quote inside quotes is one quote', () => {
    expect(parseCsv('"a,b","say ""hi""",""\n')).toEqual([['a,b', 'say "hi"', '']])
    expect(parseCsv('""""')).toEqual([['"']])
  })

  it('[CSV-3] CRLF, LF and lone CR all end a row', () => {
    expect(parseCsv('a,b\r\n1,2\r\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ])
    expect(parseCsv('a\r1\n2\r\n3')).toEqual([['a'], ['1'], ['2'], ['3']])
  })

  it('[CSV-4] line ends inside quotes belong to the field', () => {
    expect(parseCsv('name,note\r\n"Bolt","line one\r\nline two\nline three"\r\nNut,x\r\n')).toEqual([
      ['name', 'note'],
      ['Bolt', 'line one\r\nline two\nline three'],
      ['Nut', 'x'],
    ])
  })

  it('[CSV-5] a byte order mark at the start is dropped', () => {
    expect(parseCsv('\uFEFFsku,name\nA,B\n')).toEqual([
      ['sku', 'name'],
      ['A', 'B'],
    ])
    // Only at the very start: elsewhere it is data.
    expect(parseCsv('a,\uFEFFb')).toEqual([['a', '\uFEFFb']])
  })

  it('[CSV-6] an unclosed quote is a CsvError naming the line where the field began', () => {
    expect(() => parseCsv('sku,name\nA,"Bolt\nB,Nut\n')).toThrow(CsvError)
    try {
      parseCsv('sku,name\nA,"Bolt\nB,Nut\n')
    } catch (err) {
      expect(err).toBeInstanceOf(CsvError)
      expect((err as CsvError).line).toBe(2)
      expect((err as CsvError).message).toMatch(/not closed/)
    }
  })

  it('[CSV-7] a quote in the middle of an unquoted field is a CsvError', () => {
    expect(() => parseCsv('a,b"c\n')).toThrow(CsvError)
  })
})

describe('formatCsv', () => {
  it('[CSV-8] quotes fields with commas, quotes, line ends or edge spaces, doubling inner quotes', () => {
    expect(formatCsvField('plain')).toBe('plain')
    expect(formatCsvField('a,b')).toBe('"a,b"')
    expect(formatCsvField('say "hi"')).toBe('"say ""hi"""')
    expect(formatCsvField('two\nlines')).toBe('"two\nlines"')
    expect(formatCsvField(' padded ')).toBe('" padded "')
    expect(formatCsvField(undefined)).toBe('')
    expect(formatCsvField(null)).toBe('')
    expect(formatCsvField(42)).toBe('42')
    expect(formatCsv([['a', 'b'], [1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n')
  })

  it('[CSV-9] text cells starting with = + - @ (or tab, CR) get a leading quote; numbers do not', () => {
    expect(formatCsvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`)
    expect(formatCsvField('+1')).toBe("'+1")
    expect(formatCsvField('-cold room')).toBe("'-cold room")
    expect(formatCsvField('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(formatCsvField('\tx')).toBe("'\tx")
    expect(formatCsvField('a=b')).toBe('a=b')
    expect(formatCsvField(-5)).toBe('-5')
  })

  it('[CSV-10] the import side undoes the formula guard exactly, also for text that already starts with a quote', () => {
    for (const text of ['=1+1', '-20 freezer', '@home', '+49', "'=already quoted", "''-two", "'plain", 'plain', '', "'"]) {
      const [[cell]] = parseCsv(formatCsv([[text]])) as [[string]]
      expect(unguardCsvField(cell), JSON.stringify(text)).toBe(text)
    }
    expect(formatCsvField("'=x")).toBe("''=x")
    expect(formatCsvField("'x")).toBe("'x")
    expect(unguardCsvField("'x")).toBe("'x")
  })

  it('[CSV-11] what formatCsv writes, parseCsv reads back (apart from the formula guard)', () => {
    const rows = [
      ['sku', 'name', 'note'],
      ['A-1', 'Bolt, "M8"', 'line\r\nbreak'],
      ['B', ' spaced ', ''],
    ]
    expect(parseCsv(formatCsv(rows))).toEqual(rows)
  })
})
