/**
 * The PostgreSQL fast path: `COPY (query) TO STDOUT (FORMAT csv, HEADER)` through node-postgres's own
 * connection (a custom submittable, as pg-copy-streams does, without the dependency), written to a temp
 * file that DuckDB reads in bulk. Values stay the server's text (exact decimals, unshifted dates); NULL and
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
export async function copyPostgresToDuck(duck: Duck, table: string, knex: Knex, query: string, onProgress?: (bytes: number) => void): Promise<Loaded> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-copy-'));
  const file = join(dir, 'rows.csv');
  try {
    const fd = openSync(file, 'w');
    let bytes = 0;
    let head = '';
    try {
      const connection = (await knex.client.acquireConnection()) as { query(submittable: CopyOut): void };
      try {
        await new Promise<void>((resolve, reject) => {
          connection.query(
            new CopyOut(
              `COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true)`,
              (chunk) => {
                if (!head.includes('\n')) head += chunk.toString('utf8', 0, Math.min(chunk.length, 65_536));
                writeSync(fd, chunk);
                bytes += chunk.length;
                onProgress?.(bytes);
              },
              (error) => (error ? reject(error) : resolve()),
            ),
          );
        });
      } finally {
        await knex.client.releaseConnection(connection);
      }
    } finally {
      closeSync(fd);
    }
    await duck.run(`CREATE OR REPLACE TABLE ${ident(table)} AS SELECT * FROM read_csv(${literal(file)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, auto_detect = false, columns = ${headerColumns(head)})`);
    const [row] = await duck.rows<{ n: number | string }>(`SELECT count(*) AS n FROM ${ident(table)}`);
    return { table, rows: Number(row?.n ?? 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The header line's column names as a DuckDB `columns` struct (all VARCHAR), so an empty result keeps its columns. */
function headerColumns(head: string): string {
  const end = head.indexOf('\n');
  const header = (end < 0 ? head : head.slice(0, end)).replace(/\r$/, '');
  const names: string[] = [];
  // The header as PostgreSQL writes it: names quoted only when needed.
  for (const match of header.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)) names.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] ?? ''));
  return `{${names.map((name) => `${literal(name)}: 'VARCHAR'`).join(', ')}}`;
}
