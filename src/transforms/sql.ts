/**
 * SQL a batch transformation of any domain needs and each engine writes differently: the business date
 * (the local calendar date in the domain's time zone) of a UTC instant column. PostgreSQL and PGlite say
 * `AT TIME ZONE`. On MariaDB/MySQL the time zone tables are usually not loaded (CONVERT_TZ with a zone
 * name returns NULL), so the zone's UTC offsets are written out: its transitions from 1970 to 2100,
 * worked out here from the same time zone data the stream uses (Intl), as a CASE that halves the range
 * at each step (about eight comparisons a row).
 */
import type { Engine } from '../db.ts';
import { offsetMinutes } from '../time.ts';

/** SQL for the business date (local calendar date in `timeZone`) of the UTC instant in `column`. */
export function businessDateSql(engine: Engine, column: string, timeZone: string): string {
  if (engine !== 'mysql') return `CAST((${column} AT TIME ZONE '${timeZone.replaceAll("'", "''")}') AS DATE)`;
  return `CAST(${column} + INTERVAL (${offsetCase(column, transitions(timeZone))}) MINUTE AS DATE)`;
}

interface Transition {
  /** From this instant on (ms) the zone is `offset` minutes ahead of UTC. */
  fromMs: number;
  offset: number;
}

const cache = new Map<string, Transition[]>();
// A week at a time: offsets do not change twice within a week (a zone's changes are months apart).
const STEP = 7 * 86_400_000;

/** The zone's offset changes from 1970 to 2100: found week by week, then to the minute. */
function transitions(timeZone: string): Transition[] {
  let known = cache.get(timeZone);
  if (known) return known;
  const at = (ms: number) => offsetMinutes(new Date(ms), timeZone);
  const start = Date.UTC(1970, 0, 1);
  const end = Date.UTC(2100, 0, 1);
  known = [{ fromMs: -Infinity, offset: at(start) }];
  for (let week = start; week < end; week += STEP) {
    const offset = at(week + STEP);
    if (offset === known[known.length - 1]!.offset) continue;
    // The change lies in (week, week + STEP]: narrow it down to the minute.
    let [low, high] = [week, week + STEP];
    while (high - low > 60_000) {
      const middle = low + Math.floor((high - low) / 120_000) * 60_000;
      if (at(middle) === offset) high = middle;
      else low = middle;
    }
    known.push({ fromMs: high, offset });
  }
  cache.set(timeZone, known);
  return known;
}

const literal = (ms: number): string => `'${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;

function offsetCase(column: string, list: Transition[]): string {
  if (list.length === 1) return String(list[0]!.offset);
  const middle = Math.floor(list.length / 2);
  return `CASE WHEN ${column} < ${literal(list[middle]!.fromMs)} THEN ${offsetCase(column, list.slice(0, middle))} ELSE ${offsetCase(column, list.slice(middle))} END`;
}
