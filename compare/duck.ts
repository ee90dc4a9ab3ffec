/**
 * The one DuckDB database a comparison runs in: opening it (UTC session time zone, so timestamps
 * compare as instants), small SQL helpers (quoting, reading rows as JSON values), and the single
 * place DuckDB errors are wrapped into DualrunErrors.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DualrunError, messageOf } from '../src/errors.ts';

export interface Duck {
  connection: DuckDBConnection;
  /** Runs statements that return nothing we need. */
  run(sql: string): Promise<void>;
  /** Rows as plain JSON values (decimals and big integers as strings, timestamps as text). */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): void;
}

export async function openDuck(path = ':memory:'): Promise<Duck> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  const duck: Duck = {
    connection,
    async run(sql) {
      try {
        await connection.run(sql);
      } catch (error) {
        throw wrapDuckError(error, sql);
      }
    },
    async rows<T>(sql: string) {
      try {
        const reader = await connection.runAndReadAll(sql);
        return reader.getRowObjectsJson() as T[];
      } catch (error) {
        throw wrapDuckError(error, sql);
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
  await duck.run("SET TimeZone = 'UTC'");
  return duck;
}

export function wrapDuckError(error: unknown, sql: string): DualrunError {
  if (error instanceof DualrunError) return error;
  return new DualrunError('DUCKDB', `DuckDB failed: ${messageOf(error)} (in: ${sql.replace(/\s+/g, ' ').slice(0, 200)})`, { cause: error });
}

/** A SQL identifier, always quoted (column names come from users' files). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
