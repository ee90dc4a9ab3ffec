/**
 * Strict, typed CSV reading for scenario files (csv-parse underneath). A file must start with exactly
 * the expected header; every field is checked by its column's parser; every problem becomes an
 * InputError at file:line:column (as an editor shows it: 1-based, BOM not counted, a field after a
 * quoted newline on its own line) saying what was expected and what was found. Problems are collected,
 * never thrown one by one, so a caller can report all of them and apply nothing.
 * Handles a UTF-8 BOM, CRLF or LF line ends, quoted commas/quotes/newlines, empty files and blank lines.
 */
import { parse, type CsvError } from 'csv-parse/sync';
import { z } from 'zod';
import { CURRENCIES } from '../domain/entities.ts';
import { dateSchema, decimalSchema, idSchema, instantSchema } from '../domain/entities.ts';
import { InputError } from '../errors.ts';

/** Parses one raw field; `expected` says, for a person, what a good value looks like. */
export type FieldParser<T> = (raw: string) => { ok: true; value: T } | { ok: false; expected: string };

export type Columns = Record<string, FieldParser<unknown>>;
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
}

/** A problem at a place in a file, worded "column: expected …, found …". */
export function problemAt(file: string, position: Position | undefined, column: string | undefined, expected: string, found: string, hint?: string): InputError {
  const what = `${column ? `${column}: ` : ''}expected ${expected}, found ${found}`;
  return new InputError(file, position?.line, position?.column, what, hint === undefined ? {} : { hint });
}

const show = (raw: string): string => (raw === '' ? 'an empty field' : JSON.stringify(raw));

/** Reads `text` (the whole file) as CSV with exactly `columns` (names in header order). */
export function readCsv<C extends Columns>(file: string, text: string, columns: C): CsvResult<C> {
  const names = Object.keys(columns);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const problems: InputError[] = [];
  const raw: string[][] = parse(body, {
    bom: false,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined) => {
      if (!error) return undefined;
      const line = typeof error.lines === 'number' ? error.lines : undefined;
      problems.push(new InputError(file, line, undefined, `expected well-formed CSV (fields containing , " or a newline wrapped in "…", a " inside written as ""), found: ${error.message}`));
      return undefined;
    },
  });
  // After a quoting error the record boundaries are csv-parse's guess; report it and check no further.
  if (problems.length > 0 || raw.length === 0) return { records: [], problems, rejected: [] };
  const located = locateFields(body);
  if (located.length !== raw.length) throw new Error(`internal: ${file} has ${raw.length} CSV records but ${located.length} located`);

  const header = raw[0]!;
  const headerAt = located[0]!;
  for (let index = 0; index < Math.max(header.length, names.length); index += 1) {
    if (header[index] !== names[index]) {
      const position = headerAt[Math.min(index, headerAt.length - 1)]!;
      const found = header[index] === undefined ? 'the end of the header' : show(header[index]!);
      const expected = names[index] === undefined ? `the header to end after ${names.length} columns` : `header column ${index + 1} to be "${names[index]}"`;
      problems.push(problemAt(file, position, undefined, expected, found, `the header must be exactly: ${names.join(',')}`));
      return { records: [], problems, rejected: [] };
    }
  }

  const records: CsvRecord<C>[] = [];
  const rejected: Record<string, string>[] = [];
  for (let index = 1; index < raw.length; index += 1) {
    const fields = raw[index]!;
    const positions = located[index]!;
    if (fields.length !== names.length) {
      const position = positions[Math.min(fields.length, names.length) - (fields.length > names.length ? 0 : 1)] ?? positions[0]!;
      problems.push(problemAt(file, position, undefined, `${names.length} fields (${names.join(',')})`, `${fields.length}`));
      continue;
    }
    const values: Record<string, unknown> = {};
    let bad = false;
    names.forEach((name, column) => {
      const result = columns[name]!(fields[column]!);
      if (result.ok) values[name] = result.value;
      else {
        bad = true;
        problems.push(problemAt(file, positions[column], name, result.expected, show(fields[column]!)));
      }
    });
    if (bad) {
      rejected.push(Object.fromEntries(names.map((name, column) => [name, fields[column]!])));
      continue;
    }
    records.push({
      line: positions[0]!.line,
      values: values as RowOf<C>,
      at: (column) => positions[names.indexOf(column)] ?? positions[0]!,
    });
  }
  return { records, problems, rejected };
}

/**
 * Where each field of each record starts, skipping blank lines as csv-parse does. Quote state
 * toggles on every `"`, which is exact for RFC 4180 (an escaped `""` toggles twice).
 */
export function locateFields(text: string): Position[][] {
  const records: Position[][] = [];
  let current: Position[] | undefined;
  let inQuotes = false;
  let line = 1;
  let column = 1;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (!current) {
      const blank = ch === '\n' || (ch === '\r' && text[i + 1] === '\n');
      if (!blank) current = [{ line, column }];
    }
    if (current) {
      if (ch === '"') inQuotes = !inQuotes;
      else if (!inQuotes && ch === ',') current.push({ line, column: column + 1 });
      else if (!inQuotes && ch === '\n') {
        records.push(current);
        current = undefined;
      }
    }
    if (ch === '\n') {
      line += 1;
      column = 1;
    } else column += 1;
  }
  if (current) records.push(current);
  return records;
}

// --- Field parsers: the column types scenario files use. ---

function fromSchema<T>(schema: z.ZodType<T>, expected: string): FieldParser<T> {
  return (raw) => {
    const result = schema.safeParse(raw);
    return result.success ? { ok: true, value: result.data } : { ok: false, expected };
  };
}

/** An empty field is `undefined`; anything else goes to `parser`. */
export function optional<T>(parser: FieldParser<T>): FieldParser<T | undefined> {
  return (raw) => (raw === '' ? { ok: true, value: undefined } : parser(raw));
}

export const field = {
  id: fromSchema(idSchema, 'an id of 1-64 letters, digits, _ or -'),
  text: fromSchema(z.string().min(1).max(200), 'a non-empty text of at most 200 characters'),
  /** ISO-8601 instant with an offset; returned in UTC with milliseconds ("2024-10-27T01:30:00.000Z"). */
  instant: ((raw) => {
    const result = instantSchema.safeParse(raw);
    return result.success ? { ok: true, value: new Date(result.data).toISOString() } : { ok: false, expected: 'an ISO-8601 UTC time like 2024-10-27T01:30:00Z' };
  }) as FieldParser<string>,
  date: fromSchema(dateSchema, 'a date like 2024-10-27'),
  decimal: (scale: number, max?: number): FieldParser<string> => (raw) => {
    const result = decimalSchema(scale).safeParse(raw);
    if (!result.success) return { ok: false, expected: `a decimal number with at most ${scale} digits after the point, like ${scale === 2 ? '12.50' : '0.08765432'}` };
    if (Number(raw) < 0 || (max !== undefined && Number(raw) > max)) return { ok: false, expected: `a number from 0 to ${max ?? 'any'}` };
    return { ok: true, value: result.data };
  },
  positiveInt: ((raw) => (/^[1-9]\d{0,8}$/.test(raw) ? { ok: true, value: Number(raw) } : { ok: false, expected: 'a whole number of at least 1' })) as FieldParser<number>,
  oneOf: <const T extends string>(values: readonly T[]): FieldParser<T> => (raw) =>
    (values as readonly string[]).includes(raw) ? { ok: true, value: raw as T } : { ok: false, expected: `one of ${values.join(', ')}` },
  currency: ((raw) => ((CURRENCIES as readonly string[]).includes(raw) ? { ok: true, value: raw } : { ok: false, expected: `one of ${CURRENCIES.join(', ')}` })) as FieldParser<(typeof CURRENCIES)[number]>,
};
