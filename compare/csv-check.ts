/**
 * CSV input that fails well (a `csv:` source of `dualrun compare`). DuckDB's reader is the fast path;
 * this module keeps it from guessing and says exactly what is wrong when it refuses a file:
 * - before DuckDB reads, `readCsvHeader` reads only the first line(s): an empty file, bytes that are not
 *   UTF-8 there, a `;`- or tab-separated header, an empty or duplicate column name — each an InputError
 *   at file:line:column. Its names go to DuckDB explicitly, so DuckDB never sniffs a header or a dialect;
 * - after DuckDB failed (never otherwise: a good 10M-row file is read once, by DuckDB), `locateCsvProblem`
 *   finds the first bad byte or record: a UTF-8 pass over the bytes (native), then csv-parse with
 *   DuckDB's strict rules (as many fields as the header, quotes closed and followed by `,` or the line
 *   end, every line ending as line 1 does) — over the one record DuckDB's rejects table names when it
 *   names one and that record is bad, else over the whole file (many times slower than DuckDB: the slow
 *   case) — and a small scanner that turns the record's place into line and column.
 * Lines and columns are 1-based as editors show them (a UTF-8 BOM not counted, a column in UTF-16 units).
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { InputError } from '../src/errors.ts';
import { literal, type Duck } from './duck.ts';

export interface Position {
  line: number;
  column: number;
}

const BOM = [0xef, 0xbb, 0xbf];
/** The header is read in steps of this size, up to HEAD_MAX: a header never needs the whole file. */
const HEAD_STEP = 64 * 1024;
const HEAD_MAX = 1024 * 1024;
const CSV_RULES = 'fields separated by commas; a field with a comma, a " or a line break wrapped in "…", each " inside it doubled';

const enum State {
  /** Before the record: blank lines are skipped, as DuckDB and csv-parse skip them. */
  Lead,
  /** At the start of a field. */
  Start,
  /** In a field without quotes (a `"` in it is kept as it is, as DuckDB keeps it). */
  Plain,
  /** In a quoted field. */
  Quoted,
  /** Just after a `"` in a quoted field: `"` again is an escaped quote, `,` or a line end closes it. */
  Closing,
}

export type LineEnd = '\n' | '\r\n';

/**
 * Walks one CSV record as DuckDB's strict reader reads it, fed text in pieces, and keeps where each field
 * starts and, if the record is malformed, where: an unterminated quote, text after a closing quote, or a
 * line end (outside quotes) other than `newline` — DuckDB reads a file with line 1's line end only.
 */
export class RecordScan {
  line: number;
  column: number;
  /** Where each field starts. */
  readonly fields: Position[] = [];
  /** Where the record's text ends (its line end, or the end of the file). */
  end: Position | undefined;
  /** How the record's line ended (unset at the end of the file). */
  lineEnd: LineEnd | undefined;
  /** The `"` that opened the quoted field being read (still open when `end` is unset after `finish`). */
  openQuote: Position | undefined;
  /** The first character after a closing quote that is neither `,` nor a line end. */
  badClose: { at: Position; found: string } | undefined;
  /** A line end outside quotes that is not `newline`, or a CR alone. */
  badLineEnd: { at: Position; found: 'LF' | 'CRLF' | 'CR' } | undefined;
  /** The first `;` and tab outside quotes, and how many. */
  readonly separators = new Map<string, { at: Position; count: number }>();
  done = false;
  private state = State.Lead;
  private pendingCr: Position | undefined;

  /** `newline`: the line end every record must have (unset: LF or CRLF). */
  constructor(line = 1, column = 1, private readonly newline?: LineEnd) {
    this.line = line;
    this.column = column;
  }

  /** Reads `text` on from the record's last piece; returns the index where the record ended in it, or -1 if it goes on. */
  feed(text: string): number {
    for (let i = 0; i < text.length && !this.done; i += 1) {
      const ch = text.charCodeAt(i);
      const here = { line: this.line, column: this.column };
      const cr = this.pendingCr;
      if (cr) {
        this.pendingCr = undefined;
        if (ch !== 10) return this.wrongLineEnd(cr, 'CR', i);
        if (this.state !== State.Lead) return this.lineEndAt(cr, '\r\n', i);
      }
      if (ch === 10 /* \n */) {
        if (this.state === State.Quoted || this.state === State.Lead) {
          this.line += 1;
          this.column = 1;
          continue;
        }
        return this.lineEndAt(here, '\n', i);
      }
      this.column += 1;
      if (ch === 13 /* \r */ && this.state !== State.Quoted) {
        this.pendingCr = here;
        continue;
      }
      if (this.state === State.Lead) {
        this.fields.push(here);
        this.state = State.Start;
      }
      switch (this.state) {
        case State.Start:
          if (ch === 34) {
            this.openQuote = here;
            this.state = State.Quoted;
          } else if (ch === 44) this.startField();
          else {
            this.state = State.Plain;
            this.separator(ch, here);
          }
          break;
        case State.Plain:
          if (ch === 44) this.startField();
          else this.separator(ch, here);
          break;
        case State.Quoted:
          if (ch === 34) this.state = State.Closing;
          break;
        case State.Closing:
          if (ch === 34) this.state = State.Quoted;
          else if (ch === 44) {
            this.openQuote = undefined;
            this.startField();
          } else {
            this.done = true;
            this.badClose = { at: here, found: text[i]! };
            return i;
          }
          break;
      }
    }
    return -1;
  }

  /** The end of the file (a CR just before it counts as the record's end). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.state === State.Quoted) return;
    this.openQuote = undefined;
    this.end = this.pendingCr ?? { line: this.line, column: this.column };
  }

  /** The next field starts just after the comma. */
  private startField(): void {
    this.fields.push({ line: this.line, column: this.column });
    this.state = State.Start;
  }

  private lineEndAt(at: Position, found: LineEnd, index: number): number {
    if (this.newline && found !== this.newline) return this.wrongLineEnd(at, found === '\n' ? 'LF' : 'CRLF', index);
    this.done = true;
    this.end = at;
    this.lineEnd = found;
    this.openQuote = undefined;
    return index;
  }

  private wrongLineEnd(at: Position, found: 'LF' | 'CRLF' | 'CR', index: number): number {
    this.done = true;
    this.badLineEnd = { at, found };
    return index;
  }

  private separator(ch: number, at: Position): void {
    if (ch !== 59 && ch !== 9) return;
    const key = ch === 59 ? ';' : '\t';
    const seen = this.separators.get(key);
    if (seen) seen.count += 1;
    else this.separators.set(key, { at, count: 1 });
  }
}

/** A record that ends in `text` (or at its end): the scan of it. */
export function scanRecord(text: string, newline?: LineEnd): RecordScan {
  const scan = new RecordScan(1, 1, newline);
  if (scan.feed(text) < 0) scan.finish();
  return scan;
}

// ---------------------------------------------------------------------------------------- UTF-8

/**
 * The first byte sequence in `bytes` that is not well-formed UTF-8 (Unicode table 3-7): its offset and
 * length (the bad sequence as far as it looked right). A sequence cut off by the end is an error only
 * when `final`; otherwise `cut` says where the unfinished tail starts.
 */
export function utf8Problem(bytes: Uint8Array, final: boolean): { offset: number; length: number } | { cut: number } {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return { offset: i, length: 1 };
    for (let k = 1; k <= need; k += 1) {
      if (i + k >= bytes.length) return final ? { offset: i, length: k } : { cut: i };
      const c = bytes[i + k]!;
      const ok = k === 1 ? c >= low && c <= high : c >= 0x80 && c <= 0xbf;
      if (!ok) return { offset: i, length: k };
    }
    i += need + 1;
  }
  return { cut: bytes.length };
}

/** Where a character cut off by the end of `bytes` starts (bytes.length when none is). */
function completeLength(bytes: Uint8Array): number {
  for (let j = bytes.length - 1; j >= Math.max(0, bytes.length - 4); j -= 1) {
    const b = bytes[j]!;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return j + length > bytes.length ? j : bytes.length;
  }
  return bytes.length;
}

/** The first offset in the file whose bytes are not UTF-8, and those bytes. */
async function firstBadUtf8(path: string): Promise<{ offset: number; bytes: Uint8Array } | undefined> {
  let base = 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    // The native check first; the byte walk only for a chunk that fails it.
    let cut = completeLength(bytes);
    if (!isUtf8(bytes.subarray(0, cut))) {
      const found = utf8Problem(bytes, false);
      if ('offset' in found) return { offset: base + found.offset, bytes: bytes.subarray(found.offset, found.offset + found.length) };
      cut = found.cut;
    }
    carry = Buffer.from(bytes.subarray(cut));
    base += cut;
  }
  if (carry.length > 0) {
    const found = utf8Problem(carry, true);
    if ('offset' in found) return { offset: base + found.offset, bytes: carry.subarray(found.offset, found.offset + found.length) };
  }
  return undefined;
}

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');

function notUtf8(file: string, at: Position, bytes: Uint8Array, cause?: unknown): InputError {
  // What the byte would be in the usual other encoding: a hint, not a claim.
  const legacy = bytes.length === 1 ? ` (in Windows-1252 it would be ${JSON.stringify(new TextDecoder('windows-1252').decode(bytes))})` : '';
  const what = bytes.length === 1 ? `the byte ${hex(bytes)}, which is not UTF-8 here${legacy}` : `the bytes ${hex(bytes)}, which are not a UTF-8 character`;
  return new InputError(file, at.line, at.column, `expected UTF-8 text, found ${what}`, {
    cause,
    hint: 'save the file as UTF-8 (or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv, naming the encoding it really has)',
  });
}

// ------------------------------------------------------------------------------ the header, before DuckDB

/** The first bytes of the file: enough for its first record, unless that is longer than HEAD_MAX. */
async function readHead(path: string): Promise<{ bytes: Buffer; whole: boolean }> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    let bytes = Buffer.alloc(0);
    while (bytes.length < Math.min(size, HEAD_MAX)) {
      const step = Buffer.alloc(Math.min(HEAD_STEP, size - bytes.length));
      const { bytesRead } = await handle.read(step, 0, step.length, bytes.length);
      if (bytesRead === 0) break;
      bytes = Buffer.concat([bytes, step.subarray(0, bytesRead)]);
      // Enough once a line end follows the first non-blank text outside quotes (checked again by the scan).
      if (new RecordScan().feed(bytes.toString('utf8')) >= 0) break;
    }
    return { bytes, whole: bytes.length >= size };
  } finally {
    await handle.close();
  }
}

/** Line and column of `offset` in `text` (the text after any BOM). */
function positionIn(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const separatorName = (separator: string): string => (separator === '\t' ? 'tab' : separator);
const separatorCount = (separator: string, count: number): string => (separator === '\t' ? `${count} tab${count === 1 ? '' : 's'}` : `${count} "${separator}"`);

const asciiLower = (name: string): string => name.replace(/[A-Z]/g, (c) => c.toLowerCase());

export interface CsvHeader {
  names: string[];
  /** Line 1's line end: DuckDB reads every line with it. */
  newline: LineEnd;
}

const LINE_END_NAME = { LF: 'LF (\\n)', CRLF: 'CRLF (\\r\\n)', CR: 'a CR (\\r) alone' } as const;
const lineEndName = (end: LineEnd): string => (end === '\n' ? LINE_END_NAME.LF : LINE_END_NAME.CRLF);

/**
 * The column names of a CSV file's header line, checked before DuckDB reads the file: every problem a
 * header can have is an InputError at its place (DuckDB would sniff, rename or fail without a place).
 */
export async function readCsvHeader(file: string): Promise<CsvHeader> {
  const { bytes: raw, whole } = await readHead(file);
  const fail = (at: Position, message: string, hint: string): never => {
    throw new InputError(file, at.line, at.column, message, { hint });
  };
  const first = { line: 1, column: 1 };
  if ((raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff)) {
    fail(first, `expected UTF-8 text, found a UTF-16 byte order mark (${hex(raw.subarray(0, 2))})`, 'save the file as UTF-8 (in a spreadsheet: "CSV UTF-8 (comma delimited)")');
  }
  const bytes = BOM.every((b, i) => raw[i] === b) ? raw.subarray(3) : raw;
  const bad = utf8Problem(bytes, whole);
  const valid = 'offset' in bad ? bad.offset : bad.cut;
  const text = bytes.subarray(0, valid).toString('utf8');
  if ('offset' in bad) throw notUtf8(file, positionIn(text, text.length), bytes.subarray(bad.offset, bad.offset + bad.length));
  if (text.trim() === '' && whole) {
    fail(first, `expected a header line naming the columns, found ${text === '' ? 'an empty file' : 'only blank lines'}`, 'write the column names on the first line, separated by commas (id,amount,…)');
  }
  if (text.startsWith('\n') || text.startsWith('\r\n')) {
    fail(first, 'expected the header line naming the columns on line 1, found an empty line', 'remove the blank lines before the header');
  }
  const scan = new RecordScan();
  const ended = scan.feed(text);
  if (ended < 0 && !whole) {
    const message = scan.openQuote ? `expected the quoted header field that opens here to close, found no closing " in the first ${HEAD_MAX / 1024 / 1024} MB` : `expected the header line to end, found no line end in the first ${HEAD_MAX / 1024 / 1024} MB`;
    fail(scan.openQuote ?? first, message, 'close the quote; a " inside a quoted field is written ""');
  }
  if (ended < 0) scan.finish();
  if (scan.badClose && (scan.badClose.found === ';' || scan.badClose.found === '\t')) {
    const { at, found } = scan.badClose;
    fail(at, `expected the column names separated by commas, found ${found === ';' ? '";"' : 'a tab'} after a quoted name: the file looks ${separatorName(found)}-separated`, `save it as comma-separated CSV (${CSV_RULES})`);
  }
  if (scan.badClose) fail(scan.badClose.at, `expected , or the end of the line after the closing " of a header field, found ${JSON.stringify(scan.badClose.found)}`, 'wrap the whole name in quotes and double each " inside it');
  if (scan.badLineEnd) fail(scan.badLineEnd.at, `expected the header line to end with LF (\\n) or CRLF (\\r\\n), found ${LINE_END_NAME[scan.badLineEnd.found]}`, 'save the file with LF or CRLF line ends');
  if (!scan.end) fail(scan.openQuote!, 'expected a closing " for the header field that opens here, found the end of the file', 'close the quote; a " inside a quoted field is written ""');
  const [separator, used] = [...scan.separators][0] ?? [];
  if (scan.fields.length === 1 && separator && used) {
    fail(used.at, `expected the column names separated by commas, found ${separatorCount(separator, used.count)} and no comma: the file looks ${separatorName(separator)}-separated`, `save it as comma-separated CSV (${CSV_RULES})`);
  }
  const headerText = text.slice(0, ended < 0 ? text.length : ended);
  const [names = []] = parseSync(headerText, { relax_quotes: true, relax_column_count: true, bom: false }) as string[][];
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const at = scan.fields[i] ?? first;
    if (name.trim() === '') {
      const trailing = i === names.length - 1 && names.length > 1 && name === '';
      fail(at, `expected a name for column ${i + 1}, found ${name === '' ? 'an empty field' : 'only white space'}`, trailing ? 'name the column, or remove the comma at the end of the header line' : 'name every column in the header line');
    }
    const earlier = seen.get(asciiLower(name));
    if (earlier !== undefined) {
      const same = names[earlier] === name ? `"${name}" again (column ${earlier + 1} is "${name}" too)` : `"${name}", which DuckDB takes for "${names[earlier]}" (column ${earlier + 1}): names differing only in case are the same column`;
      fail(at, `expected each column name once, found ${same}`, 'rename one of the two columns (dualrun compares columns by name and never renames them)');
    }
    seen.set(asciiLower(name), i);
  });
  return { names, newline: scan.lineEnd ?? '\n' };
}

// --------------------------------------------------------------------------------- after DuckDB failed

/** Line and column of byte `offset` of the file: lines counted, the column's characters decoded. */
async function positionOf(path: string, offset: number): Promise<Position> {
  let line = 1;
  let lineStart = 0;
  let base = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, end: Math.max(offset - 1, 0) }) as AsyncIterable<Buffer>) {
    const limit = Math.min(chunk.length, offset - base);
    for (let i = chunk.indexOf(10); i >= 0 && i < limit; i = chunk.indexOf(10, i + 1)) {
      line += 1;
      lineStart = base + i + 1;
    }
    base += chunk.length;
  }
  if (offset === lineStart) return { line, column: 1 };
  const handle = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(offset - lineStart);
    await handle.read(prefix, 0, prefix.length, lineStart);
    const text = prefix.toString('utf8');
    return { line, column: (lineStart === 0 && text.startsWith('\uFEFF') ? text.length - 1 : text.length) + 1 };
  } finally {
    await handle.close();
  }
}

/** The scan of the record starting at byte `offset` (at `at`), read from the file as far as it goes. */
async function scanAt(path: string, offset: number, at: Position, newline: LineEnd): Promise<RecordScan> {
  const scan = new RecordScan(at.line, at.column, newline);
  const decoder = new StringDecoder('utf8');
  const stream = createReadStream(path, { start: offset, highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (scan.feed(decoder.write(chunk)) >= 0) return scan;
    }
    if (scan.feed(decoder.end()) < 0) scan.finish();
    return scan;
  } finally {
    stream.destroy();
  }
}

interface BadRecord {
  /** Byte offset where the record (or the blank lines before it) starts. */
  start: number;
  /** Set when csv-parse itself failed there. */
  error?: { code: string; message: string };
}

/** A record longer than this is one DuckDB refuses anyway (its max_line_size is 2 MB); csv-parse stops there instead of holding the rest of the file. */
const MAX_RECORD = 4 * 1024 * 1024;

/**
 * csv-parse over the file from byte `from` (0: the header first), record by record, with DuckDB's rules:
 * the first data record whose field count differs from the header's, that has text after a closing quote
 * or another line end than line 1, or where csv-parse stops (an unterminated quote, a record too long).
 * Quotes inside an unquoted field are text, as DuckDB reads them. A record is scanned again only when a
 * field of it looks suspect (starts with a quote, holds a CR, or a line break in a CRLF file). `records`:
 * how many data records to look at.
 */
async function firstBadRecord(path: string, header: CsvHeader, from = 0, records = Infinity): Promise<BadRecord | undefined> {
  const { newline } = header;
  const columns = header.names.length;
  // `info` for each record's end offset; no `raw` (it costs a third more): a suspect record is read again from the file.
  const parser = parse({ bom: from === 0, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, record_delimiter: newline, info: true, max_record_size: MAX_RECORD });
  const suspect = (field: string): boolean => field.charCodeAt(0) === 34 || field.includes('\r') || (newline === '\r\n' && field.includes('\n'));
  const stream = createReadStream(path, { start: from, highWaterMark: 1 << 20 });
  stream.pipe(parser);
  let start = from;
  let seen = from === 0 ? -1 : 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      if (seen >= 0) {
        if (record.length !== columns) return { start };
        if (record.some(suspect)) {
          const scan = await scanAt(path, start, { line: 1, column: 1 }, newline);
          if (scan.badClose || scan.badLineEnd) return { start };
        }
      }
      start = from + info.bytes;
      seen += 1;
      if (seen >= records) break;
    }
    return undefined;
  } catch (error) {
    const { code = 'CSV_ERROR', message = String(error) } = error as { code?: string; message?: string };
    return { start, error: { code, message } };
  } finally {
    stream.destroy();
    parser.destroy();
  }
}

/** The read_csv options of a file with this header: every column text, nothing guessed, strict RFC 4180. */
export function readCsvOptions(header: CsvHeader): string {
  const columns = `{${header.names.map((name) => `${literal(name)}: 'VARCHAR'`).join(', ')}}`;
  return `header = true, columns = ${columns}, auto_detect = false, strict_mode = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, null_padding = false`;
}

const REJECTS_LIMIT = 100_000;

/**
 * DuckDB's own account of where it failed: the file read again with its rejects table (bad rows are
 * recorded, not fatal), the byte offset where the first rejected record starts. DuckDB's
 * line_byte_position lands on the record's start or one byte into it (LF files, DuckDB 1.5), so the
 * record starts after the last line end at most 2 bytes before it; farther, the hint is not used.
 * Undefined when DuckDB cannot say (it failed again, recorded nothing, or so many that the first may be missing).
 */
export async function duckFirstReject(duck: Duck, path: string, header: CsvHeader): Promise<number | undefined> {
  let at: number;
  try {
    await duck.run(`SELECT count(*) FROM read_csv(${literal(path)}, ${readCsvOptions(header)}, store_rejects = true, rejects_table = 'dualrun_csv_rejects', rejects_scan = 'dualrun_csv_rejects_scan', rejects_limit = ${REJECTS_LIMIT})`);
    const [row] = await duck.rows<{ n: number | string; at: number | string | null }>('SELECT count(*) AS n, min(line_byte_position) AS at FROM dualrun_csv_rejects');
    if (!row || row.at === null || Number(row.n) >= REJECTS_LIMIT) return undefined;
    at = Number(row.at);
  } catch {
    return undefined;
  } finally {
    await duck.run('DROP TABLE IF EXISTS dualrun_csv_rejects; DROP TABLE IF EXISTS dualrun_csv_rejects_scan').catch(() => undefined);
  }
  const handle = await open(path, 'r');
  try {
    const before = Buffer.alloc(Math.min(at, 3));
    await handle.read(before, 0, before.length, at - before.length);
    const newline = before.lastIndexOf(10);
    return newline < 0 ? undefined : at - before.length + newline + 1;
  } finally {
    await handle.close();
  }
}

/** A column name as a message shows it: as it is, or quoted when it holds a comma, a quote or a control character. */
const shownName = (name: string): string => ([...name].some((c) => c < ' ' || c === ',' || c === '"') ? JSON.stringify(name) : name);

/**
 * After DuckDB refused the file: the first problem in it, at its exact place, or undefined when none of
 * the problems looked for is there (the caller then reports DuckDB's own reason). Given the DuckDB
 * database, DuckDB is asked first which record it refused, and csv-parse checks that record; otherwise
 * (or if that record looks fine) csv-parse reads the file from its start. `cause`: DuckDB's error.
 */
export async function locateCsvProblem(file: string, header: CsvHeader, options: { duck?: Duck; cause?: unknown } = {}): Promise<InputError | undefined> {
  const { duck, cause } = options;
  const columns = header.names;
  const problem = (at: Position, message: string, hint: string): InputError => new InputError(file, at.line, at.column, message, { cause, hint });
  const utf8 = await firstBadUtf8(file);
  if (utf8) return notUtf8(file, await positionOf(file, utf8.offset), utf8.bytes, cause);
  const rejected = duck ? await duckFirstReject(duck, file, header) : undefined;
  const bad = (rejected === undefined ? undefined : await firstBadRecord(file, header, rejected, 1)) ?? (await firstBadRecord(file, header));
  if (!bad) return undefined;
  const scan = await scanAt(file, bad.start, await positionOf(file, bad.start), header.newline);
  if (scan.badLineEnd) {
    return problem(scan.badLineEnd.at, `expected the line to end as line 1 does, with ${lineEndName(header.newline)}, found ${LINE_END_NAME[scan.badLineEnd.found]}`, 'give every line the same line end (an editor can convert them all to LF); a line break inside a value needs the value in quotes');
  }
  if (scan.badClose) {
    const { at, found } = scan.badClose;
    const opened = scan.openQuote!;
    // A quoted field that ran over lines usually means a " on its first line was never closed.
    if (opened.line !== at.line) {
      return problem(at, `expected , or the end of the line after a closing ", found ${JSON.stringify(found)}; this quoted field opened at ${opened.line}:${opened.column}`, `close the quote where that field ends on line ${opened.line}; a " inside a quoted field is written ""`);
    }
    return problem(at, `expected , or the end of the line after a closing ", found ${JSON.stringify(found)}`, 'wrap the whole field in quotes and double each " inside it ("5"" screen" for 5" screen)');
  }
  if (!scan.end && scan.openQuote) {
    return problem(scan.openQuote, 'expected a closing " for the quoted field that opens here, found the end of the file', 'close the quote; a " inside a quoted field is written ""');
  }
  const expected = `${columns.length} field${columns.length === 1 ? '' : 's'} (${columns.map(shownName).join(',')})`;
  const found = scan.fields.length;
  if (scan.end && found < columns.length) {
    const looks = found === 1 ? [...scan.separators.keys()][0] : undefined;
    return problem(
      scan.end,
      `expected ${expected}, found ${found}: the row ends before column ${shownName(columns[found]!)}`,
      looks ? `this row looks ${separatorName(looks)}-separated: separate its fields with commas` : 'give the row a field for every column (an empty value is nothing between two commas)',
    );
  }
  if (found > columns.length) {
    return problem(scan.fields[columns.length]!, `expected ${expected}, found ${found}: this field is one too many`, 'remove the extra field, or wrap a value that contains a comma in quotes ("a, b")');
  }
  if (bad.error) return problem(scan.fields[0] ?? { line: scan.line, column: scan.column }, `expected a well-formed CSV record, found: ${bad.error.message}`, `write it as CSV (${CSV_RULES})`);
  return undefined;
}
