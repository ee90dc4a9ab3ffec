/**
 * The batch runner: for one business date, runs each transformation's legacy SQL inside the database
 * and writes its output table in one transaction — delete that date's rows and INSERT … SELECT for a
 * dated output, delete all and INSERT … SELECT for a current-state output — so a rerun gives the same
 * output and a failure (or kill -9) leaves the previous output as it was. Each run holds a database
 * lock for its (transformation, date) and is recorded in the run history.
 */
import type { Knex } from 'knex';
import type { Engine } from '../src/db.ts';
import type { DualrunError} from '../src/errors.ts';
import { UsageError } from '../src/errors.ts';
import { cutoffFor, dayBounds } from '../src/time.ts';
import type { Logger } from '../src/logger.ts';
import type { BatchContext, Transform } from '../src/transforms/contract.ts';
import { LockHeldError, wrapBatchError } from './errors.ts';
import { HISTORY_TABLE, ensureHistoryTable, ensureOutputTable, outputTableOf } from './tables.ts';
import { failAbandoned, hasSucceeded, recordFailure, recordStart, recordSuccess, sweepAbandoned } from './history.ts';
import { lockName, tryLock } from './lock.ts';

export interface RunBatchOptions {
  db: Knex;
  engine: Engine;
  transforms: readonly Transform[];
  /** "YYYY-MM-DD" in each transformation's business time zone. */
  businessDate: string;
  /** What the run may see: rows that arrived by then. Default: `cutoffTime` on the next local day. */
  cutoff?: Date;
  /** "HH:MM" local, used when `cutoff` is not given (default 02:00). */
  cutoffTime?: string;
  logger: Logger;
  /** Checked before each transformation: once aborted, the rest are not started (the current one finishes). */
  signal?: AbortSignal;
  onProgress?: (outcome: RunOutcome) => void;
  /** Called as each transformation starts (long runs show what they are doing). */
  onStart?: (transform: string, businessDate: string) => void;
  /** Skip a transformation whose date has already succeeded (checked under its lock): the scheduler's catch-up. */
  onlyMissing?: boolean;
}

export type RunOutcome =
  | { transform: string; businessDate: string; status: 'succeeded'; rowsWritten: number; seconds: number; runId: number }
  | { transform: string; businessDate: string; status: 'failed'; error: DualrunError; runId: number | undefined }
  | { transform: string; businessDate: string; status: 'skipped'; error: DualrunError }
  | { transform: string; businessDate: string; status: 'already-succeeded' };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD, or a UsageError saying so. */
export function parseBusinessDate(value: string, where = '--date'): string {
  const parsed = DATE.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;
  const valid = parsed !== undefined && !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
  if (!valid) throw new UsageError(`${where}: "${value}" is not a date written YYYY-MM-DD`, { hint: `give a calendar date like 2024-10-27` });
  return value;
}

/** Runs every given transformation for the date; failures are recorded and returned, not thrown. */
export async function runBatch(options: RunBatchOptions): Promise<RunOutcome[]> {
  const { db, engine, logger } = options;
  parseBusinessDate(options.businessDate);
  try {
    await ensureHistoryTable(db);
    await sweepAbandoned(db, engine, logger);
  } catch (error) {
    throw wrapBatchError(error, HISTORY_TABLE);
  }
  const outcomes: RunOutcome[] = [];
  for (const transform of options.transforms) {
    if (options.signal?.aborted) break;
    options.onStart?.(transform.name, options.businessDate);
    const outcome = await runOne(options, transform);
    outcomes.push(outcome);
    options.onProgress?.(outcome);
  }
  return outcomes;
}

async function runOne(options: RunBatchOptions, transform: Transform): Promise<RunOutcome> {
  const { db, engine, businessDate, logger } = options;
  const table = outputTableOf(transform);
  const name = transform.name;
  const lock = await tryLock(db, engine, lockName(name, businessDate));
  if (!lock) return { transform: name, businessDate, status: 'skipped', error: new LockHeldError(name, businessDate) };
  let runId: number | undefined;
  try {
    await failAbandoned(db, name, businessDate);
    if (options.onlyMissing && (await hasSucceeded(db, name, businessDate))) return { transform: name, businessDate, status: 'already-succeeded' };
    const { start, end } = dayBounds(businessDate, transform.time.timeZone);
    const cutoff = options.cutoff ?? cutoffFor(businessDate, options.cutoffTime ?? '02:00', transform.time.timeZone);
    await ensureOutputTable(db, transform);
    runId = await recordStart(db, engine, name, businessDate, cutoff);
    const started = process.hrtime.bigint();
    const id = runId;
    const rowsWritten = await db.transaction(async (trx) => {
      const ctx: BatchContext = { knex: trx, engine, businessDate, dayStart: start, dayEnd: end, cutoff };
      const written = await writeOutput(trx, transform, ctx);
      await recordSuccess(trx, id, written);
      return written;
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    logger.info({ transform: name, businessDate, rowsWritten, seconds }, 'batch output written');
    return { transform: name, businessDate, status: 'succeeded', rowsWritten, seconds, runId };
  } catch (caught) {
    const error = wrapBatchError(caught, table);
    // Reported by the caller from the outcome; logged here only for debugging.
    logger.debug({ transform: name, businessDate, err: error }, 'batch run failed');
    if (runId !== undefined) await recordFailure(db, runId, error.describe()).catch((cause: unknown) => logger.error({ err: cause }, 'could not record the failure'));
    return { transform: name, businessDate, status: 'failed', error, runId };
  } finally {
    await lock.release().catch((cause: unknown) => logger.warn({ err: cause }, 'could not release the run lock'));
  }
}

/** The two statements that replace an output: DELETE the date's rows (or all), then INSERT … SELECT. */
export function outputStatements(knex: Knex, transform: Transform, ctx: BatchContext): { remove: Knex.QueryBuilder; insert: Knex.Raw } {
  const table = outputTableOf(transform);
  const remove = (transform.dateColumn ? knex(table).where(transform.dateColumn, ctx.businessDate) : knex(table)).delete();
  const { sql, bindings } = transform.batch(ctx).toSQL();
  const columns = transform.columns.map((column) => column.name);
  return { remove, insert: knex.raw(`INSERT INTO ?? (??) ${sql}`, [table, columns, ...bindings]) };
}

/** Replaces the date's rows (or the whole table) with the transformation's SELECT, inside `trx`. */
async function writeOutput(trx: Knex.Transaction, transform: Transform, ctx: BatchContext): Promise<number> {
  const { remove, insert } = outputStatements(trx, transform, ctx);
  await remove;
  const written = affectedRows(await insert);
  if (written !== undefined) return written;
  const count = trx(outputTableOf(transform)).count({ n: '*' });
  if (transform.dateColumn) count.where(transform.dateColumn, ctx.businessDate);
  return Number(((await count) as { n: unknown }[])[0]?.n);
}

/** Rows an INSERT wrote, from whichever shape the driver answers with (pg, PGlite, mysql2). */
function affectedRows(result: unknown): number | undefined {
  const candidates = [result, Array.isArray(result) ? result[0] : undefined] as ({ rowCount?: unknown; affectedRows?: unknown } | undefined)[];
  for (const candidate of candidates) {
    // PGlite reports both, and only affectedRows counts an INSERT's rows.
    if (typeof candidate?.affectedRows === 'number') return candidate.affectedRows;
    if (typeof candidate?.rowCount === 'number' && candidate.rowCount >= 0) return candidate.rowCount;
  }
  return undefined;
}
