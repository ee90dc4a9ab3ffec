/**
 * The gate's own history, beside the comparison history in the same DuckDB file: one row per
 * transformation per `dualrun check`, so promotion can ask for N passing runs in a row and
 * `dualrun status` can draw the migration board.
 */
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import { openHistory } from './history.ts';
import type { GateVerdict } from './gate.ts';

const TABLE = `CREATE TABLE IF NOT EXISTS gate_history (run_at TIMESTAMPTZ, transform VARCHAR, stage VARCHAR, gated BOOLEAN,
  passed BOOLEAN, parity_passed BOOLEAN, streak INTEGER, reasons VARCHAR)`;

export interface GateHistoryRow {
  run_at: string;
  transform: string;
  stage: string;
  passed: boolean;
  /** The comparison met the thresholds (promotion aside). */
  parity_passed: boolean;
  streak: number;
  reasons: string;
}

export async function appendGateVerdicts(path: string, runAt: Date, verdicts: readonly GateVerdict[]): Promise<void> {
  const duck = await openHistory(path);
  try {
    await duck.run(TABLE);
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
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  } finally {
    duck.close();
  }
}

/** The last `limit` runs per transformation, oldest first. */
export async function readGateHistory(path: string, limit = 10): Promise<GateHistoryRow[]> {
  const duck = await openHistory(path);
  try {
    await duck.run(TABLE);
    const rows = await duck.rows<Record<string, unknown>>(
      `SELECT strftime(run_at, '%Y-%m-%dT%H:%M:%SZ') AS run_at, transform, stage, passed, parity_passed, streak, reasons
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
    }));
  } finally {
    duck.close();
  }
}

/** Each transformation's current streak of passing runs (0 when it has none). */
export function streaksOf(history: readonly GateHistoryRow[]): Map<string, number> {
  const streaks = new Map<string, number>();
  for (const row of history) streaks.set(row.transform, row.streak); // oldest first: the last one wins
  return streaks;
}
