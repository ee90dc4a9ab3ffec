/**
 * Loaders: every source lands as one table in the comparison's DuckDB database, in bulk —
 * CSV and Parquet files read by DuckDB itself (Parquet in place, with its types), database tables and
 * Kafka topics streamed in chunks (never row-by-row INSERT). Text arrives in the pinned representation
 * (DESIGN.md section 7); the diff decides per column how to compare it.
 */
import { access, constants } from 'node:fs/promises';
import type { Knex } from 'knex';
import type { DuckDBAppender } from '@duckdb/node-api';
import { InputError, SchemaError, messageOf } from '../src/errors.ts';
import { locateCsvProblem, readCsvHeader, readCsvOptions } from './csv-check.ts';
import { ident, literal, type Duck } from './duck.ts';
import { copyPostgresToDuck } from './pg-copy.ts';

const CHUNK = 50_000;

export interface Loaded {
  table: string;
  rows: number;
}

async function readable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new InputError(path, undefined, undefined, `cannot read the file: ${messageOf(error)}`, { cause: error, hint: 'check the path and its permissions' });
  }
}

async function countRows(duck: Duck, table: string): Promise<number> {
  const [row] = await duck.rows<{ n: number | string }>(`SELECT count(*) AS n FROM ${ident(table)}`);
  return Number(row?.n ?? 0);
}

/**
 * A CSV file with a header line; every column read as text (so "007" stays "007"; an empty field is
 * NULL, a quoted "" the empty string). The header is read and checked first (csv-check.ts) and given to
 * DuckDB with strict parsing, so DuckDB never guesses a header, a delimiter or a type. When DuckDB refuses
 * the file, the file is searched for the exact place (only then: a good file is read once, by DuckDB).
 */
export async function loadCsv(duck: Duck, table: string, path: string): Promise<Loaded> {
  await readable(path);
  const header = await readCsvHeader(path);
  try {
    await duck.run(`CREATE OR REPLACE TABLE ${ident(table)} AS SELECT * FROM read_csv(${literal(path)}, ${readCsvOptions(header)})`);
  } catch (error) {
    const located = await locateCsvProblem(path, header, { duck, cause: error });
    if (located) throw located;
    throw new InputError(path, undefined, undefined, `expected a CSV file DuckDB can read, found: ${duckCsvReason(messageOf(error))}`, {
      cause: error,
      hint: 'give a comma-separated UTF-8 file whose first line names the columns',
    });
  }
  return { table, rows: await countRows(duck, table) };
}

/** DuckDB's reason without its advice (its "possible fixes" are options dualrun does not let one set). */
function duckCsvReason(message: string): string {
  const lines = message.replace(/^DuckDB failed: /, '').split('\n').map((line) => line.trim());
  const record = /CSV Error on Line: (\d+)/.exec(lines[0] ?? '')?.[1];
  const end = lines.findIndex((line) => /^Possible (fixes|Solution)/.test(line));
  const reason = lines.slice(1, end < 0 ? 2 : end).filter((line) => line !== '' && !line.startsWith('Original Line:')).join(' ');
  if (record) return `${reason || lines[0]} (in DuckDB's record ${record}, counting the header as 1)`;
  return lines[0]!.replace(/ \(in: .*$/, '');
}

/**
 * A Parquet file, read where it is (a view, not a copy): its columns keep their types, the comparison
 * reads each value once, in the join, and the row count comes from the file's metadata.
 */
export async function loadParquet(duck: Duck, table: string, path: string): Promise<Loaded> {
  await readable(path);
  try {
    await duck.run(`CREATE OR REPLACE VIEW ${ident(table)} AS SELECT * FROM read_parquet(${literal(path)})`);
  } catch (error) {
    throw new InputError(path, undefined, undefined, `not a readable Parquet file: ${messageOf(error).replace(/^DuckDB failed: /, '').split('\n')[0]}`, { cause: error, hint: 'give a Parquet file (or use csv:PATH)' });
  }
  return { table, rows: await countRows(duck, table) };
}

/** A table of text columns filled through the appender, chunk by chunk. */
export class TextTableWriter {
  private appender: DuckDBAppender | undefined;
  rows = 0;
  constructor(
    private readonly duck: Duck,
    readonly table: string,
    readonly columns: string[],
  ) {}

  async open(): Promise<void> {
    await this.duck.run(`CREATE OR REPLACE TABLE ${ident(this.table)} (${this.columns.map((column) => `${ident(column)} VARCHAR`).join(', ')})`);
    this.appender = await this.duck.connection.createAppender(this.table);
  }

  /** Appends rows given as arrays in `columns` order (null = NULL). */
  append(rows: Iterable<readonly (string | null)[]>): void {
    const appender = this.appender!;
    for (const row of rows) {
      for (let i = 0; i < this.columns.length; i++) {
        const value = row[i];
        if (value === null || value === undefined) appender.appendNull();
        else appender.appendVarchar(value);
      }
      appender.endRow();
      this.rows++;
    }
  }

  close(): Loaded {
    this.appender?.flushSync();
    this.appender?.closeSync();
    this.appender = undefined;
    return { table: this.table, rows: this.rows };
  }
}

/** A driver value as text in the pinned representation (dates "YYYY-MM-DD", instants ISO UTC). */
export function asText(value: unknown, dateOnly = false): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return dateOnly ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'object') return Buffer.isBuffer(value) ? value.toString('hex') : JSON.stringify(value);
  return String(value);
}

export interface DbSource {
  knex: Knex;
  /** A table name, or a query (its SQL is run as is). */
  table?: string;
  query?: Knex.QueryBuilder | Knex.Raw;
  /** For messages: `db:batch_orders_enriched`. */
  source: string;
  /**
   * 'text' (default): every column lands as the database's text. 'native' (the comparator's): on the
   * PostgreSQL server, integers, decimals of a declared precision, dates and instants land typed, so a
   * column typed on both sides is compared as it is, with no text round trip.
   */
  types?: 'text' | 'native';
}

// node-postgres: every column as the server's text, so decimals stay exact and DATE is never
// shifted by the process time zone (DESIGN.md 4.6, 4.9).
const rawText = { getTypeParser: () => (text: string) => text };

/** A database table or query: COPY to CSV (PostgreSQL), a server-side cursor (PGlite) or a row stream (MySQL). */
export async function loadDatabase(duck: Duck, table: string, source: DbSource, onProgress?: (rows: number) => void): Promise<Loaded> {
  const { knex } = source;
  const select = source.query ?? knex.select('*').from(source.table!);
  const { sql, bindings } = select.toSQL().toNative();
  const client = String((knex.client as { config?: { client?: unknown } }).config?.client ?? '');
  try {
    if (client.includes('mysql')) return await loadMysql(duck, table, knex, sql, bindings as unknown[], onProgress);
    // The PostgreSQL server: COPY to CSV. PGlite (same dialect, in process): a cursor.
    if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
      const query = select.toQuery();
      const types = source.types === 'native' ? await postgresColumnTypes(knex, query) : undefined;
      return await copyPostgresToDuck(duck, table, knex, query, types ? { types } : {});
    }
    return await loadPostgres(duck, table, knex, sql, bindings as unknown[], onProgress);
  } catch (error) {
    if (error instanceof InputError || error instanceof SchemaError) throw error;
    throw new SchemaError(source.source.replace(/^db:/, ''), `cannot read it: ${messageOf(error)}`, { cause: error, hint: 'check that the table exists in the database given by --db' });
  }
}

interface PgResult {
  rows: unknown[][];
  fields: { name: string; dataTypeID: number }[];
}

const PG_DATE_OID = 1082;

/**
 * The DuckDB type a PostgreSQL column lands as, by its type OID and modifier; undefined: text. Only
 * types whose COPY text DuckDB reads back to the same value and prints as PostgreSQL does: integers,
 * numeric(p,s) with p ≤ 38 (an unconstrained numeric can exceed any DECIMAL), dates, timestamps with
 * and without time zone (the text carries the offset). Floats, booleans and the rest stay text, so
 * samples and reports show them as the database wrote them.
 */
export function duckTypeOfPostgres(oid: number, modifier: number): string | undefined {
  switch (oid) {
    case 21:
      return 'SMALLINT';
    case 23:
      return 'INTEGER';
    case 20:
      return 'BIGINT';
    case 1700: {
      if (modifier < 4) return undefined;
      const precision = ((modifier - 4) >> 16) & 0xffff;
      const scale = (modifier - 4) & 0xffff;
      return precision >= 1 && precision <= 38 && scale <= precision ? `DECIMAL(${precision},${scale})` : undefined;
    }
    case PG_DATE_OID:
      return 'DATE';
    case 1114:
      return 'TIMESTAMP';
    case 1184:
      return 'TIMESTAMPTZ';
    default:
      return undefined;
  }
}

/** The typed columns of a query's result, from its description (no row is read). */
async function postgresColumnTypes(knex: Knex, query: string): Promise<Map<string, string>> {
  const result = (await knex.raw(`SELECT * FROM (${query}) AS q LIMIT 0`)) as { fields: { name: string; dataTypeID: number; dataTypeModifier: number }[] };
  const types = new Map<string, string>();
  for (const field of result.fields) {
    const type = duckTypeOfPostgres(field.dataTypeID, field.dataTypeModifier);
    if (type) types.set(field.name, type);
  }
  return types;
}

async function loadPostgres(duck: Duck, table: string, knex: Knex, sql: string, bindings: unknown[], onProgress?: (rows: number) => void): Promise<Loaded> {
  return knex.transaction(async (trx) => {
    await trx.raw(`DECLARE dualrun_compare_cursor NO SCROLL CURSOR FOR ${sql}`, bindings as Knex.RawBinding[]);
    const fetch = async () => (await trx.raw(`FETCH ${CHUNK} FROM dualrun_compare_cursor`).options({ types: rawText, rowMode: 'array' })) as PgResult;
    let writer: TextTableWriter | undefined;
    let pending: Promise<PgResult> | undefined = fetch();
    while (pending) {
      const result: PgResult = await pending;
      // The server reads the next chunk while this one is appended.
      pending = result.rows.length === CHUNK ? fetch() : undefined;
      if (!writer) {
        writer = new TextTableWriter(duck, table, result.fields.map((field) => field.name));
        await writer.open();
      }
      const dateOnly = result.fields.map((field) => field.dataTypeID === PG_DATE_OID);
      writer.append(result.rows.map((row) => row.map((value, i) => asText(value, dateOnly[i]))));
      onProgress?.(writer.rows);
    }
    await trx.raw('CLOSE dualrun_compare_cursor');
    return writer!.close();
  });
}

async function loadMysql(duck: Duck, table: string, knex: Knex, sql: string, bindings: unknown[], onProgress?: (rows: number) => void): Promise<Loaded> {
  const columns = (await knex.raw(`SELECT * FROM (${sql}) AS q LIMIT 0`, bindings as Knex.RawBinding[])) as [unknown[], { name: string; columnType: number }[]];
  const fields = columns[1];
  const DATE_TYPES = new Set([10, 14]); // MYSQL_TYPE_DATE, NEWDATE
  const writer = new TextTableWriter(duck, table, fields.map((field) => field.name));
  await writer.open();
  const dateOnly = fields.map((field) => DATE_TYPES.has(field.columnType));
  const stream = knex.raw(sql, bindings as Knex.RawBinding[]).stream();
  let chunk: (string | null)[][] = [];
  for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
    chunk.push(writer.columns.map((name, i) => asText(row[name], dateOnly[i])));
    if (chunk.length === CHUNK) {
      writer.append(chunk);
      chunk = [];
      onProgress?.(writer.rows);
    }
  }
  writer.append(chunk);
  return writer.close();
}
