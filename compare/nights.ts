/**
 * A transformation's nights, read back from the history file for the report's and `dualrun status`'s
 * history charts: per night its match rate, verdict and differences per category. A night is the cut-off
 * a `dualrun check` judged (gate_history); a run without one (`dualrun compare`) is a night of its own,
 * at its run time. Several runs of one night: the latest counts, as for the gate's streak.
 * The file is opened read-only and never changed; one written before per-category counts were recorded
 * reads with `categories: null` for those runs.
 */
import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DifferenceCategory } from '../src/differences.ts';
import { InputError, messageOf } from '../src/errors.ts';
import type { ComparisonResult, Counts } from './types.ts';

export interface Night {
  name: string;
  /** The cut-off the run judged, or (nightKnown false) the run's own time. ISO. */
  night: string;
  nightKnown: boolean;
  runAt: string;
  parity: boolean;
  counts: Counts;
  /** Unexplained differences (recorded since the history began, unlike the other categories). */
  unexplained: number;
  /** Differences per category; null when the run's history predates per-category counts. */
  categories: Partial<Record<DifferenceCategory, number>> | null;
  /** The run the report being written is of (not in the history yet). */
  current?: boolean;
}

/** (match + within tolerance) / compared rows, in percent; null when nothing was compared. */
export function matchRate(counts: Counts): number | null {
  const total = counts.match + counts.withinTolerance + counts.mismatch + counts.onlyLeft + counts.onlyRight;
  return total === 0 ? null : ((counts.match + counts.withinTolerance) / total) * 100;
}

/** The run a report is of, as a night (its cut-off when known). */
export function nightOf(comparison: ComparisonResult, runAt: string, night?: string): Night {
  return { name: comparison.name, night: night ?? runAt, nightKnown: night !== undefined, runAt, parity: comparison.parity, counts: comparison.counts, unexplained: comparison.explained.unexplained ?? 0, categories: comparison.explained, current: true };
}

/**
 * The nights of the current run's comparison with the current run among them, in order of night (at most
 * `limit`, the current run always kept): it replaces an earlier run of the same night.
 */
export function withCurrent(nights: readonly Night[], current: Night, limit = 10): Night[] {
  const others = nights.filter((night) => night.name === current.name && !(current.nightKnown && night.nightKnown && night.night === current.night));
  const sorted = [...others, current].sort((a, b) => Date.parse(a.night) - Date.parse(b.night));
  while (sorted.length > Math.max(1, limit)) sorted.splice(sorted[0] === current ? 1 : 0, 1);
  return sorted;
}

/** The last `limit` nights of each comparison in the history file, oldest first, by name; empty when the file does not exist. */
export async function readNights(path: string, limit = 10): Promise<Map<string, Night[]>> {
  const byName = new Map<string, Night[]>();
  if (!existsSync(path)) return byName;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  } catch (error) {
    throw new InputError(path, undefined, undefined, `cannot read the history file: ${messageOf(error)}`, { cause: error, hint: 'another process may hold it open for writing; try again when it is done' });
  }
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const tables = new Set((await connection.runAndReadAll('SELECT table_name FROM information_schema.tables')).getRowObjectsJson().map((row) => String(row.table_name)));
    if (!tables.has('parity_history')) return byName;
    const gateNights = tables.has('gate_history') ? 'SELECT DISTINCT run_at, transform, night FROM gate_history WHERE night IS NOT NULL' : 'SELECT NULL::TIMESTAMPTZ AS run_at, NULL::VARCHAR AS transform, NULL::TIMESTAMPTZ AS night WHERE false';
    const iso = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
    const reader = await connection.runAndReadAll(
      `WITH runs AS (
         SELECT p.*, g.night AS gate_night, coalesce(g.night, p.run_at) AS night_at FROM parity_history p LEFT JOIN (${gateNights}) g ON g.run_at = p.run_at AND g.transform = p.name),
       latest AS (SELECT *, row_number() OVER (PARTITION BY name, night_at ORDER BY run_at DESC) AS copy FROM runs),
       ranked AS (SELECT *, row_number() OVER (PARTITION BY name ORDER BY night_at DESC) AS age FROM latest WHERE copy = 1)
       SELECT name, ${iso('run_at')} AS run_at, ${iso('night_at')} AS night, gate_night IS NOT NULL AS night_known, parity, match, within_tolerance, mismatch, only_left, only_right, unexplained
         FROM ranked WHERE age <= ${Math.max(1, Math.floor(limit))} ORDER BY name, night_at`,
    );
    const categories = new Map<string, Partial<Record<DifferenceCategory, number>>>();
    if (tables.has('parity_categories')) {
      const rows = (await connection.runAndReadAll(`SELECT name, ${iso('run_at')} AS run_at, category, count FROM parity_categories`)).getRowObjectsJson();
      for (const row of rows) {
        const id = `${String(row.name)}\u0000${String(row.run_at)}`;
        const counts = categories.get(id) ?? {};
        if (Number(row.count) > 0) counts[String(row.category) as DifferenceCategory] = Number(row.count);
        categories.set(id, counts);
      }
    }
    for (const row of reader.getRowObjectsJson()) {
      const name = String(row.name);
      const runAt = String(row.run_at);
      const night: Night = {
        name,
        night: String(row.night),
        nightKnown: row.night_known === true,
        runAt,
        parity: row.parity === true,
        counts: { match: Number(row.match), withinTolerance: Number(row.within_tolerance), mismatch: Number(row.mismatch), onlyLeft: Number(row.only_left), onlyRight: Number(row.only_right) },
        unexplained: Number(row.unexplained),
        categories: categories.get(`${name}\u0000${runAt}`) ?? null,
      };
      byName.set(name, [...(byName.get(name) ?? []), night]);
    }
    return byName;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
