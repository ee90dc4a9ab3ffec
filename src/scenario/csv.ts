/**
 * Strict, typed CSV reading for scenario files (csv-parse underneath). A file must start with exactly
 * the expected header; every field is checked by its column's parser; every problem becomes an
 * InputError at file:line:column (as an editor shows it: 1-based, BOM not counted, a field after a
 * quoted newline on its own line) saying what was expected and what was found. Problems are collected,
 * never thrown one by one, so a caller can report all of them and apply nothing.
 * Handles a UTF-8 BOM, CRLF or LF line ends, quoted commas/quotes/newlines, empty files and blank lines.
 * Text that was not UTF-8 (U+FFFD once decoded) and a ;- or tab-separated header are one problem each.
 */
import { parse, type CsvError } from 'csv-parse/sync';
import { InputError } from '../errors.ts';
import type { Field } from '../model/fields.ts';

/** Parses one raw field; `expected` says, for a person, what a good value looks like. */
export type FieldParser<T> = (raw: string) => { ok: true; value: T } | { ok: false; expected: string };

export type Columns = Record<string, FieldParser<unknown>>;

/** A declared field as a CSV column: an empty field is `undefined`; anything else is parsed by the field. */
export function columnOf<T>(field: Field<T>): FieldParser<T | undefined> {
  return (raw) => (raw === '' ? { ok: true, value: undefined } : field.parse(raw));
}
export type RowOf<C extends Columns> = { [K in keyof C]: C[K] extends FieldParser<infer T> ? T : never };

export interface Position {
  line: number;
  column: number;
}

export interface CsvRecord<C extends Columns> {
  /** Line where the record starts. */
  line: number;
  values: RowOf<C>;
  /** Where a column's field starts, for problems found after parsing (cross-row rules). */
  at(column: keyof C & string): Position;
}

export interface CsvResult<C extends Columns> {
  records: CsvRecord<C>[];
  problems: InputError[];
  /** Raw fields of the rows with a bad field, so cross-file checks can avoid reporting knock-on problems. */
  rejected: Record<string, string>[];
  /** False when the header or the CSV syntax was bad: no row of the file could be read. */
  complete: boolean;
}

/** A problem at a place in a file, worded "column: expected …, found …". */
export function problemAt(file: string, position: Position | undefined, column: string | undefined, expected: string, found: string, hint?: string): InputError {
  const what = `${column ? `${column}: ` : ''}expected ${expected}, found ${found}`;
  return new InputError(file, position?.line, position?.column, what, hint === undefined ? {} : { hint });
}

/** A record without a closure per row: `at` looks positions up through the file's shared locator. */
class ParsedRecord<C extends Columns> implements CsvRecord<C> {
  constructor(
    readonly line: number,
    readonly values: RowOf<C>,
    private readonly index: number,
    private readonly locate: (record: number, column: string) => Position,
  ) {}
  at(column: keyof C & string): Position {
    return this.locate(this.index, column);
  }
}

const show = (raw: string): string => (raw === '' ? 'an empty field' : JSON.stringify(raw));

/**
 * Reads `text` (the whole file) as CSV with exactly `columns` (names in header order). Good records go
 * to `consume` as they are parsed when given (nothing is kept: constant memory per record), else into
 * `records`. Structural errors (quoting) void the file's records: boundaries after them are guesses.
 */
export function readCsv<C extends Columns>(file: string, text: string, columns: C, consume?: (record: CsvRecord<C>) => void): CsvResult<C> {
  const names = Object.keys(columns);
  const parsers = names.map((name) => columns[name]!);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const notUtf8 = replacedChar(file, body);
  if (notUtf8) return { records: [], problems: [notUtf8], rejected: [], complete: false };
  const structural: InputError[] = [];
  const problems: InputError[] = [];
  const records: CsvRecord<C>[] = [];
  const rejected: Record<string, string>[] = [];
  const located = locateRecords(body);
  const position = (record: number, field: number): Position => fieldPosition(body, located.offsets[record] ?? 0, located.lines[record] ?? 1, field);
  let index = 0;
  let headerOk = false;
  let separatedHeader: InputError | undefined;
  const locate = (record: number, column: string): Position => position(record, Math.max(names.indexOf(column), 0));

  const onRecord = (fields: string[]): void => {
    const record = index;
    index += 1;
    if (record === 0) {
      headerOk = checkHeader(fields);
      return;
    }
    if (!headerOk) return;
    if (fields.length !== names.length) {
      // Point at the first extra field, or at the last field of a short row.
      const at = position(record, fields.length > names.length ? names.length : fields.length - 1);
      problems.push(problemAt(file, at, undefined, `${names.length} fields (${names.join(',')})`, `${fields.length}`));
      rejected.push(Object.fromEntries(names.map((name, column) => [name, fields[column] ?? ''])));
      return;
    }
    const values: Record<string, unknown> = {};
    let bad = false;
    for (let column = 0; column < names.length; column += 1) {
      const result = parsers[column]!(fields[column]!);
      if (result.ok) values[names[column]!] = result.value;
      else {
        bad = true;
        problems.push(problemAt(file, position(record, column), names[column], result.expected, show(fields[column]!)));
      }
    }
    if (bad) rejected.push(Object.fromEntries(names.map((name, column) => [name, fields[column]!])));
    else {
      const good = new ParsedRecord(located.lines[record]!, values as RowOf<C>, record, locate);
      if (consume) consume(good);
      else records.push(good);
    }
  };
  const checkHeader = (header: string[]): boolean => {
    const separated = header.length === 1 && names.length > 1 ? otherSeparator(file, header[0]!, names) : undefined;
    if (separated) {
      problems.push(separated);
      return false;
    }
    for (let column = 0; column < Math.max(header.length, names.length); column += 1) {
      if (header[column] === names[column]) continue;
      const earlier = header[column] === undefined ? -1 : header.indexOf(header[column]!);
      const again = earlier >= 0 && earlier < column ? ` again (column ${earlier + 1} is ${show(header[column]!)} too)` : '';
      const found = header[column] === undefined ? 'the end of the header' : `${show(header[column]!)}${again}`;
      const expected = names[column] === undefined ? `the header to end after ${names.length} columns` : `header column ${column + 1} to be "${names[column]}"`;
      // A header that ends early is pointed at just past its end.
      const short = column >= header.length;
      const at = position(0, short ? header.length - 1 : column);
      if (short) at.column += header[header.length - 1]!.length;
      problems.push(problemAt(file, at, undefined, expected, found, `the header must be exactly: ${names.join(',')}`));
      return false;
    }
    return true;
  };

  // Records are checked as csv-parse yields them (on_record returning null keeps none in memory).
  parse(body, {
    bom: false,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
    skip_records_with_error: true,
    on_record: (fields: string[]) => {
      onRecord(fields);
      return null;
    },
    on_skip: (error: CsvError | undefined) => {
      if (!error) return undefined;
      const line = typeof error.lines === 'number' ? error.lines : undefined;
      // A ;-separated header of quoted names ("id";"name") stops csv-parse at its first ;: that is all to say.
      if (separatedHeader) return undefined;
      separatedHeader = structural.length === 0 && index === 0 ? otherSeparator(file, body.slice(0, body.search(/\r?\n|$/)), names) : undefined;
      if (separatedHeader) {
        structural.push(separatedHeader);
        return undefined;
      }
      structural.push(new InputError(file, line, undefined, `expected well-formed CSV (fields containing , " or a newline wrapped in "…", a " inside written as ""), found: ${error.message}`));
      return undefined;
    },
  });
  // After a quoting error the record boundaries are csv-parse's guess: report only that.
  if (structural.length > 0) return { records: [], problems: structural, rejected: [], complete: false };
  if (index !== located.offsets.length) throw new Error(`internal: ${file} has ${index} CSV records but ${located.offsets.length} were located`);
  return { records, problems, rejected, complete: headerOk || index === 0 };
}

/**
 * The file was decoded as UTF-8 by the caller, so a byte that is not UTF-8 reads as U+FFFD; one in the
 * file is reported where it is (a real U+FFFD is a character an earlier conversion already lost).
 */
function replacedChar(file: string, body: string): InputError | undefined {
  const offset = body.indexOf('\uFFFD');
  if (offset < 0) return undefined;
  const lineStart = body.lastIndexOf('\n', offset) + 1;
  let line = 1;
  for (let i = body.indexOf('\n'); i >= 0 && i < offset; i = body.indexOf('\n', i + 1)) line += 1;
  return problemAt(file, { line, column: offset - lineStart + 1 }, undefined, 'UTF-8 text', '"\uFFFD" (U+FFFD: a byte that is not UTF-8, or a character lost in an earlier conversion)', 'save the file as UTF-8 (and type again any character that was lost)');
}

/** A header line with no comma but a ; or a tab: the file is evidently separated by that. */
function otherSeparator(file: string, header: string, names: string[]): InputError | undefined {
  if (header.includes(',')) return undefined;
  const at = header.search(/[;\t]/);
  if (at < 0) return undefined;
  const separator = header[at] === ';' ? '";"' : 'a tab';
  const kind = header[at] === ';' ? ';' : 'tab';
  return problemAt(file, { line: 1, column: at + 1 }, undefined, 'the header columns separated by commas', `${separator} and no comma (the file looks ${kind}-separated)`, `save the file comma-separated; the header must be exactly: ${names.join(',')}`);
}

/**
 * Where each record starts (offset and line), skipping blank lines as csv-parse does. Quote state
 * toggles on every `"`, which is exact for RFC 4180 (an escaped `""` toggles twice). Two numbers per
 * record, so a million-row file costs little; field positions are worked out only when needed.
 */
export function locateRecords(text: string): { offsets: number[]; lines: number[] } {
  const offsets: number[] = [];
  const lines: number[] = [];
  let inRecord = false;
  let inQuotes = false;
  let line = 1;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (!inRecord && !(ch === 10 || (ch === 13 && text.charCodeAt(i + 1) === 10))) {
      inRecord = true;
      offsets.push(i);
      lines.push(line);
    }
    if (ch === 34) inQuotes = !inQuotes;
    else if (ch === 10) {
      line += 1;
      if (!inQuotes) inRecord = false;
    }
  }
  return { offsets, lines };
}

/** Line and column where field `field` (0-based) of the record starting at `offset` begins. */
export function fieldPosition(text: string, offset: number, line: number, field: number): Position {
  let column = 1;
  let seen = 0;
  let inQuotes = false;
  for (let i = offset; i < text.length && seen < field; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch === 34) inQuotes = !inQuotes;
    else if (!inQuotes && ch === 44) seen += 1;
    else if (!inQuotes && ch === 10) break;
    if (ch === 10) {
      line += 1;
      column = 1;
    } else column += 1;
  }
  return { line, column };
}
