/**
 * Run history: each comparison run's summary appended to a DuckDB file (table `parity_history`),
 * and read back as a trend per comparison (`dualrun compare history`). Its differences per category go
 * to a table of their own (`parity_categories`, one row per category, zeros too, so "none" differs from
 * "not recorded"): files written before it read as before, and an older dualrun can still append to a newer file.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../src/differences.ts';
import { InputError, UsageError, messageOf } from '../src/errors.ts';
import { openDuck, type Duck } from './duck.ts';
import type { Report } from './types.ts';

export interface HistoryRow {
  run_at: string;
  name: string;
  parity: boolean;
  match: number;
  within_tolerance: number;
  mismatch: number;
  only_left: number;
  only_right: number;
  unexplained: number;
}

const TABLE = `CREATE TABLE IF NOT EXISTS parity_history (run_at TIMESTAMPTZ, name VARCHAR, parity BOOLEAN, match BIGINT, within_tolerance BIGINT,
  mismatch BIGINT, only_left BIGINT, only_right BIGINT, unexplained BIGINT)`;
const CATEGORIES_TABLE = 'CREATE TABLE IF NOT EXISTS parity_categories (run_at TIMESTAMPTZ, name VARCHAR, category VARCHAR, count BIGINT)';

export async function openHistory(path: string): Promise<Duck> {
  try {
    await mkdir(dirname(path), { recursive: true });
    return await openDuck(path);
  } catch (error) {
    throw new InputError(path, undefined, undefined, `cannot open the history file: ${messageOf(error)}`, { cause: error, hint: 'give --history a writable path to a .duckdb file (another process may hold it open)' });
  }
}

export async function appendHistory(path: string, report: Report): Promise<void> {
  const duck = await openHistory(path);
  try {
    await duck.run(TABLE);
    await duck.run(CATEGORIES_TABLE);
    // Both tables or neither: a run never reads as one whose categories were not recorded.
    await duck.run('BEGIN TRANSACTION');
    const appender = await duck.connection.createAppender('parity_history');
    const runAt = new DuckDBTimestampTZValue(BigInt(Date.parse(report.generatedAt)) * 1000n);
    for (const c of report.comparisons) {
      appender.appendTimestampTZ(runAt);
      appender.appendVarchar(c.name);
      appender.appendBoolean(c.parity);
      for (const value of [c.counts.match, c.counts.withinTolerance, c.counts.mismatch, c.counts.onlyLeft, c.counts.onlyRight, c.explained.unexplained ?? 0]) appender.appendBigInt(BigInt(value));
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
    const categories = await duck.connection.createAppender('parity_categories');
    for (const c of report.comparisons) {
      for (const category of Object.keys(DIFFERENCE_CATEGORIES) as DifferenceCategory[]) {
        categories.appendTimestampTZ(runAt);
        categories.appendVarchar(c.name);
        categories.appendVarchar(category);
        categories.appendBigInt(BigInt(c.explained[category] ?? 0));
        categories.endRow();
      }
    }
    categories.flushSync();
    categories.closeSync();
    await duck.run('COMMIT');
  } finally {
    duck.close();
  }
}

/** The last `limit` runs per comparison, oldest first; none when the file does not exist (reading never creates it). */
export async function readHistory(path: string, limit = 10): Promise<HistoryRow[]> {
  if (!existsSync(path)) return [];
  const duck = await openHistory(path);
  try {
    await duck.run(TABLE);
    const rows = await duck.rows<Record<string, unknown>>(
      `SELECT strftime(run_at, '%Y-%m-%dT%H:%M:%SZ') AS run_at, name, parity, match, within_tolerance, mismatch, only_left, only_right, unexplained
         FROM (SELECT *, row_number() OVER (PARTITION BY name ORDER BY run_at DESC) AS rank FROM parity_history) WHERE rank <= ${Math.max(1, Math.floor(limit))}
        ORDER BY name, run_at`,
    );
    return rows.map((row) => ({
      run_at: String(row.run_at),
      name: String(row.name),
      parity: row.parity === true,
      match: Number(row.match),
      within_tolerance: Number(row.within_tolerance),
      mismatch: Number(row.mismatch),
      only_left: Number(row.only_left),
      only_right: Number(row.only_right),
      unexplained: Number(row.unexplained),
    }));
  } finally {
    duck.close();
  }
}

/** An explicit --history that names no file is a typo, not an empty history: refuse it rather than report nothing. */
export function requireHistoryFile(path: string, flag = '--history'): void {
  if (existsSync(path)) return;
  throw new UsageError(`${flag} ${path}: no such file`, { hint: `give the history file dualrun check or dualrun compare wrote (by default <out>/history.duckdb), or drop ${flag}` });
}
