/**
 * The PostgreSQL fast path: `COPY (query) TO STDOUT (FORMAT csv, HEADER)` through node-postgres's own
 * connection (a custom submittable, as pg-copy-streams does, without the dependency), written to temp
 * files that DuckDB reads in bulk while the rest arrives. Values stay the server's text (exact decimals, unshifted dates), or
 * land typed where the caller gives a column's DuckDB type (DuckDB parses the server's text as that type); NULL and
 * the empty string stay apart (unquoted empty vs "").
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { ident, literal, type Duck } from './duck.ts';
import type { Loaded } from './load.ts';

interface PgConnection {
  query(text: string): void;
}

/** A node-postgres submittable that runs one COPY … TO STDOUT and hands each chunk to `onData`. */
class CopyOut {
  private error: Error | undefined;
  constructor(
    private readonly text: string,
    private readonly onData: (chunk: Buffer) => void,
    private readonly done: (error?: Error) => void,
  ) {}
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyData(message: { chunk: Buffer }): void {
    try {
      this.onData(message.chunk);
    } catch (error) {
      this.error ??= error as Error;
    }
  }
  // node-postgres drops the active query on an error: readyForQuery never reaches it, so finish here.
  handleError(error: Error): void {
    this.done(this.error ?? error);
  }
  handleReadyForQuery(): void {
    this.done(this.error);
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/** `query` is complete SQL (COPY takes no parameters: knex's `toQuery()` inlines them with its own quoting). */
export async function copyPostgresToDuck(
  duck: Duck,
  table: string,
  knex: Knex,
  query: string,
  options: { onProgress?: (bytes: number) => void; partBytes?: number; /** DuckDB types of columns to land typed (others VARCHAR). */ types?: ReadonlyMap<string, string> } = {},
): Promise<Loaded> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-copy-'));
  const parts = new CsvParts(duck, table, dir, options.partBytes ?? PART_BYTES, options.onProgress, options.types ?? new Map());
  let copied = false;
  try {
    try {
      const connection = (await knex.client.acquireConnection()) as { query(submittable: CopyOut): void };
      try {
        await new Promise<void>((resolve, reject) => {
          connection.query(new CopyOut(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true)`, (chunk) => parts.add(chunk), (error) => (error ? reject(error) : resolve())));
        });
        copied = true;
      } finally {
        await knex.client.releaseConnection(connection);
      }
    } finally {
      parts.end(copied);
    }
    await parts.loaded;
    const [row] = await duck.rows<{ n: number | string }>(`SELECT count(*) AS n FROM ${ident(table)}`);
    return { table, rows: Number(row?.n ?? 0) };
  } catch (error) {
    // No half-loaded table: the parts read before the failure go too.
    await parts.loaded.catch(() => undefined);
    if (parts.created) await duck.run(`DROP TABLE IF EXISTS ${ident(table)}`).catch(() => undefined);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The COPY output as CSV files of about `partBytes` each, every finished one read by DuckDB while the
 * next arrives (so the transfer and the parse overlap). PostgreSQL sends one CopyData message per row
 * (the header first): a part ends between rows. The messages are gathered in a block and written in
 * one system call per block, and copied in at once: node-postgres hands over views into a receive
 * buffer it reuses.
 */
class CsvParts {
  private readonly block = Buffer.allocUnsafe(1 << 20);
  private filled = 0;
  private bytes = 0;
  /** Bytes in the current part. */
  private written = 0;
  private index = 0;
  /** The current part's file, opened with its first row. */
  private fd: number | undefined;
  private head = '';
  /** Settles once every finished part is in the table. */
  loaded: Promise<void> = Promise.resolve();
  /** Whether the table was (re)created: the first part was read in. */
  created = false;

  constructor(
    private readonly duck: Duck,
    private readonly table: string,
    private readonly dir: string,
    private readonly partBytes: number,
    private readonly onProgress: ((bytes: number) => void) | undefined,
    private readonly types: ReadonlyMap<string, string>,
  ) {}

  add(chunk: Buffer): void {
    if (!this.head.includes('\n')) this.head += chunk.toString('utf8', 0, Math.min(chunk.length, 65_536));
    if (this.written >= this.partBytes) this.endPart();
    this.fd ??= openSync(this.path(this.index), 'w');
    this.bytes += chunk.length;
    this.written += chunk.length;
    if (this.filled + chunk.length > this.block.length) this.flush();
    if (chunk.length > this.block.length) writeSync(this.fd, chunk);
    else this.filled += chunk.copy(this.block, this.filled);
  }

  /** Finishes the last part: reads it in after a complete COPY, only closes its file after a failed one. */
  end(complete: boolean): void {
    if (complete) this.endPart();
    else if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private path(index: number): string {
    return join(this.dir, `rows-${index}.csv`);
  }

  private flush(): void {
    if (this.filled > 0) writeSync(this.fd!, this.block, 0, this.filled);
    this.filled = 0;
    this.onProgress?.(this.bytes);
  }

  private endPart(): void {
    if (this.fd === undefined) return; // nothing arrived (a COPY always sends its header: only on failure)
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    const [path, first] = [this.path(this.index), this.index === 0];
    const read = `read_csv(${literal(path)}, header = ${first}, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, auto_detect = false, columns = ${headerColumns(this.head, this.types)})`;
    const target = ident(this.table);
    const load = () => this.duck.run(first ? `CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${read}` : `INSERT INTO ${target} SELECT * FROM ${read}`);
    this.created = true;
    this.loaded = this.loaded.then(load);
    this.loaded.catch(() => undefined); // awaited by the caller
    this.index += 1;
    this.written = 0;
  }
}

const PART_BYTES = 32 << 20;

/** The header line's column names as a DuckDB `columns` struct (VARCHAR unless typed), so an empty result keeps its columns. */
function headerColumns(head: string, types: ReadonlyMap<string, string>): string {
  const end = head.indexOf('\n');
  const header = (end < 0 ? head : head.slice(0, end)).replace(/\r$/, '');
  const names: string[] = [];
  // The header as PostgreSQL writes it: names quoted only when needed.
  for (const match of header.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)) names.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] ?? ''));
  return `{${names.map((name) => `${literal(name)}: ${literal(types.get(name) ?? 'VARCHAR')}`).join(', ')}}`;
}
