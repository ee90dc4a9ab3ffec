/**
 * Source specs as people type them: `csv:PATH`, `parquet:PATH`, `db:TABLE` (with --db URL),
 * `kafka:TOPIC` (with --brokers). A bad spec is a UsageError naming it and listing the forms.
 */
import { UsageError } from '../src/errors.ts';

export type SourceSpec =
  | { kind: 'csv'; path: string }
  | { kind: 'parquet'; path: string }
  | { kind: 'db'; table: string }
  | { kind: 'kafka'; topic: string }
  /** Rows in memory (library use: tests, the demo); values as text in the pinned representation. */
  | { kind: 'rows'; name: string; columns: string[]; rows: readonly (readonly (string | null)[])[] };

const FORMS = 'csv:PATH, parquet:PATH, db:TABLE (with --db URL) or kafka:TOPIC (with --brokers)';

export function parseSpec(text: string, flag = 'spec'): SourceSpec {
  const match = /^(csv|parquet|db|kafka):(.+)$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} ${JSON.stringify(text)} is not a source spec`, { hint: `use ${FORMS}` });
  const [, kind, rest] = match as unknown as [string, 'csv' | 'parquet' | 'db' | 'kafka', string];
  switch (kind) {
    case 'csv':
    case 'parquet':
      return { kind, path: rest };
    case 'db':
      if (!/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(rest)) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(rest)} is not a table name`, { hint: 'use db:TABLE or db:SCHEMA.TABLE' });
      return { kind, table: rest };
    case 'kafka':
      return { kind, topic: rest };
  }
}

export function describeSpec(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'csv':
    case 'parquet':
      return `${spec.kind}:${spec.path}`;
    case 'db':
      return `db:${spec.table}`;
    case 'kafka':
      return `kafka:${spec.topic}`;
    case 'rows':
      return `rows:${spec.name}`;
  }
}
