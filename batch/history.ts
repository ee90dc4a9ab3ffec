/**
 * Run history in `dualrun_batch_runs`: a row is written as `running` (committed on its own, so it
 * survives a crash), and turned `succeeded` inside the output's transaction (so success and output
 * commit together) or `failed` after a rollback. A `running` row whose lock is free belongs to a run
 * that died (kill -9, power loss): it is marked failed the next time anyone looks.
 */
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { Engine } from '../src/db.ts';
import type { Logger } from '../src/logger.ts';
import { lockName, tryLock } from './lock.ts';
import { HISTORY_TABLE } from './tables.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunRecord {
  id: number;
  transform: string;
  businessDate: string;
  cutoff: string;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  rowsWritten: number | null;
  error: string | null;
  runner: string;
}

export const ABANDONED = 'abandoned: the process running it stopped before finishing (killed or crashed); its transaction was rolled back';

const runnerName = (): string => `${hostname()}:${process.pid}`;

export async function recordStart(db: Knex, engine: Engine, transform: string, businessDate: string, cutoff: Date): Promise<number> {
  const row = { transform, business_date: businessDate, cutoff, started_at: new Date(), status: 'running', runner: runnerName() };
  // MariaDB has no RETURNING for inserts here; mysql2 answers with the new id instead.
  const inserted: unknown[] = engine === 'mysql' ? await db(HISTORY_TABLE).insert(row) : await db(HISTORY_TABLE).insert(row, ['id']);
  const first = inserted[0] as number | { id: number } | undefined;
  return Number(typeof first === 'object' ? first.id : first);
}

export async function recordSuccess(trx: Knex.Transaction, id: number, rowsWritten: number): Promise<void> {
  await trx(HISTORY_TABLE).where({ id }).update({ status: 'succeeded', rows_written: rowsWritten, finished_at: new Date() });
}

export async function recordFailure(db: Knex, id: number, error: string): Promise<void> {
  await db(HISTORY_TABLE).where({ id }).update({ status: 'failed', error: error.slice(0, 4000), finished_at: new Date() });
}

/** Call while holding the lock of (transform, date): any `running` row for it is a dead run. */
export async function failAbandoned(db: Knex, transform: string, businessDate: string): Promise<number> {
  return db(HISTORY_TABLE).where({ transform, business_date: businessDate, status: 'running' }).update({ status: 'failed', error: ABANDONED, finished_at: new Date() });
}

/** Marks failed every `running` run whose lock is free; leaves the ones another process still runs. */
export async function sweepAbandoned(db: Knex, engine: Engine, logger: Logger): Promise<number> {
  const running = await db(HISTORY_TABLE).distinct('transform', dateText(db, 'business_date')).where({ status: 'running' });
  let marked = 0;
  for (const { transform, business_date: businessDate } of running as { transform: string; business_date: string }[]) {
    const lock = await tryLock(db, engine, lockName(transform, businessDate));
    if (!lock) continue;
    try {
      const count = await failAbandoned(db, transform, businessDate);
      if (count > 0) logger.warn({ transform, businessDate }, 'marked an abandoned run failed');
      marked += count;
    } finally {
      await lock.release();
    }
  }
  return marked;
}

/** A DATE column as "YYYY-MM-DD" text on every engine (drivers otherwise turn it into a local-time Date). */
export function dateText(db: Knex, column: string, alias = column): Knex.Raw {
  return db.raw('CAST(?? AS CHAR(10)) AS ??', [column, alias]);
}

const iso = (value: unknown): string | null => (value === null || value === undefined ? null : new Date(value as string).toISOString());

/** Newest first. */
export async function listRuns(db: Knex, options: { transform?: string; businessDate?: string; limit?: number } = {}): Promise<RunRecord[]> {
  const query = db(HISTORY_TABLE)
    .select('id', 'transform', dateText(db, 'business_date'), 'cutoff', 'started_at', 'finished_at', 'status', 'rows_written', 'error', 'runner')
    .orderBy('id', 'desc');
  if (options.transform) query.where('transform', options.transform);
  if (options.businessDate) query.where('business_date', options.businessDate);
  if (options.limit) query.limit(options.limit);
  const rows = (await query) as Record<string, unknown>[];
  return rows.map((row) => ({
    id: Number(row.id),
    transform: String(row.transform),
    businessDate: String(row.business_date),
    cutoff: iso(row.cutoff)!,
    startedAt: iso(row.started_at)!,
    finishedAt: iso(row.finished_at),
    status: row.status as RunStatus,
    rowsWritten: row.rows_written === null ? null : Number(row.rows_written),
    error: (row.error as string | null) ?? null,
    runner: String(row.runner),
  }));
}

export async function hasSucceeded(db: Knex, transform: string, businessDate: string): Promise<boolean> {
  return (await db(HISTORY_TABLE).first('id').where({ transform, business_date: businessDate, status: 'succeeded' })) !== undefined;
}

/** The (transform, date) pairs that have succeeded at least once, as "name|date". */
export async function succeededPairs(db: Knex, since: string): Promise<Set<string>> {
  const rows = (await db(HISTORY_TABLE).distinct('transform', dateText(db, 'business_date')).where({ status: 'succeeded' }).andWhere('business_date', '>=', since)) as { transform: string; business_date: string }[];
  return new Set(rows.map((row) => `${row.transform}|${row.business_date}`));
}
