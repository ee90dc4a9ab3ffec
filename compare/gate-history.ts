/**
 * The gate's own history, beside the comparison history in the same DuckDB file: one row per
 * transformation per `dualrun check`, so promotion can ask for N passing nights in a row and
 * `dualrun status` can draw the migration board. Each row keeps the night the run judged (its cut-off /
 * watermark) and the latest night its streak counts, so a re-run of a night is not counted again.
 */
import { existsSync } from 'node:fs';
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { Duck } from './duck.ts';
import { openHistory } from './history.ts';
import type { GateVerdict } from './gate.ts';

// Files written before nights were recorded get the two columns added (NULL: each old run a night of its own).
const TABLE = [
  `CREATE TABLE IF NOT EXISTS gate_history (run_at TIMESTAMPTZ, transform VARCHAR, stage VARCHAR, gated BOOLEAN,
    passed BOOLEAN, parity_passed BOOLEAN, streak INTEGER, reasons VARCHAR, night TIMESTAMPTZ, streak_night TIMESTAMPTZ)`,
  'ALTER TABLE gate_history ADD COLUMN IF NOT EXISTS night TIMESTAMPTZ',
  'ALTER TABLE gate_history ADD COLUMN IF NOT EXISTS streak_night TIMESTAMPTZ',
];

async function ensureTable(duck: Duck): Promise<void> {
  for (const statement of TABLE) await duck.run(statement);
}

export interface GateHistoryRow {
  run_at: string;
  transform: string;
  stage: string;
  passed: boolean;
  /** The comparison met the thresholds (promotion aside). */
  parity_passed: boolean;
  streak: number;
  reasons: string;
  /** The night the run judged, and the latest night its streak counts (ISO; null in older history). */
  night: string | null;
  streak_night: string | null;
}

const timestamp = (iso: string) => new DuckDBTimestampTZValue(BigInt(Date.parse(iso)) * 1000n);

/** Appends one row per verdict; `night` is the cut-off / watermark the run judged. */
export async function appendGateVerdicts(path: string, runAt: Date, verdicts: readonly GateVerdict[], night?: string): Promise<void> {
  const duck = await openHistory(path);
  try {
    await ensureTable(duck);
    const appender = await duck.connection.createAppender('gate_history');
    for (const verdict of verdicts) {
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(runAt.getTime()) * 1000n));
      appender.appendVarchar(verdict.transform);
      appender.appendVarchar(verdict.stage);
      appender.appendBoolean(verdict.gated);
      appender.appendBoolean(verdict.passed);
      appender.appendBoolean(verdict.streak > 0);
      appender.appendInteger(verdict.streak);
      appender.appendVarchar(verdict.reasons.join('; '));
      if (night === undefined) appender.appendNull();
      else appender.appendTimestampTZ(timestamp(night));
      if (verdict.streakNight === null) appender.appendNull();
      else appender.appendTimestampTZ(timestamp(verdict.streakNight));
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  } finally {
    duck.close();
  }
}

/** The last `limit` runs per transformation, oldest first; none when the file does not exist (reading never creates it). */
export async function readGateHistory(path: string, limit = 10): Promise<GateHistoryRow[]> {
  if (!existsSync(path)) return [];
  const duck = await openHistory(path);
  try {
    await ensureTable(duck);
    const rows = await duck.rows<Record<string, unknown>>(
      `SELECT strftime(run_at, '%Y-%m-%dT%H:%M:%SZ') AS run_at, transform, stage, passed, parity_passed, streak, reasons,
              strftime(night, '%Y-%m-%dT%H:%M:%S.%gZ') AS night, strftime(streak_night, '%Y-%m-%dT%H:%M:%S.%gZ') AS streak_night
         FROM (SELECT *, row_number() OVER (PARTITION BY transform ORDER BY run_at DESC) AS rank FROM gate_history)
        WHERE rank <= ${Math.max(1, Math.floor(limit))} ORDER BY transform, run_at`,
    );
    return rows.map((row) => ({
      run_at: String(row.run_at),
      transform: String(row.transform),
      stage: String(row.stage),
      passed: row.passed === true,
      parity_passed: row.parity_passed === true,
      streak: Number(row.streak),
      reasons: String(row.reasons ?? ''),
      night: row.night == null ? null : String(row.night),
      streak_night: row.streak_night == null ? null : String(row.streak_night),
    }));
  } finally {
    duck.close();
  }
}

/** Each transformation's current streak of passing nights and the latest night it counts. */
export function streaksOf(history: readonly GateHistoryRow[]): Map<string, { streak: number; night: string | null }> {
  const streaks = new Map<string, { streak: number; night: string | null }>();
  for (const row of history) streaks.set(row.transform, { streak: row.streak, night: row.streak_night }); // oldest first: the last one wins
  return streaks;
}
