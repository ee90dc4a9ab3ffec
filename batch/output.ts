/**
 * Reads a batch output table back in the representation every runner hands out (the shared
 * convention): decimals as strings with the contract's scale, dates "YYYY-MM-DD", timestamps ISO UTC
 * with milliseconds, integers as numbers, NULL as null; sorted by the key. For tests, the CLI and the
 * comparator's loader — never on the hot path.
 */
import type { Knex } from 'knex';
import { fromUnits, toUnits } from '../src/decimal.ts';
import type { Column, TransformContract } from '../src/transforms/contract.ts';
import { dateText } from './history.ts';
import { outputTableOf } from './tables.ts';

export type OutputValue = string | number | null;
export type OutputRow = Record<string, OutputValue>;

export function normalizeValue(column: Column, value: unknown): OutputValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'integer':
      return Number(value);
    case 'decimal':
      // The output column has exactly this scale; toUnits would throw on more digits, and pads fewer.
      return fromUnits(toUnits(String(value), column.scale ?? 2), column.scale ?? 2);
    case 'timestamp':
      return new Date(value as string).toISOString();
    case 'date':
    case 'string':
      return String(value);
  }
}

export async function readBatchOutput(db: Knex, transform: TransformContract, options: { businessDate?: string } = {}): Promise<OutputRow[]> {
  const select = transform.columns.map((column) => (column.type === 'date' ? dateText(db, column.name) : column.name));
  const query = db(outputTableOf(transform)).select(select).orderBy([...transform.key]);
  if (options.businessDate && transform.dateColumn) query.where(transform.dateColumn, options.businessDate);
  const rows = (await query) as Record<string, unknown>[];
  return rows.map((row) => Object.fromEntries(transform.columns.map((column) => [column.name, normalizeValue(column, row[column.name])])));
}
