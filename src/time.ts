/**
 * Business days in a time zone, DST included: a business day is a local calendar date, 23 or 25 hours
 * long on the days the clocks change (Stockholm's in March and October, Sydney's in October and April).
 * Pure functions on ISO strings and Dates; the batch side expresses the same rules in SQL.
 */
export { hasIsoInstantShape } from './model/codec.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  return format;
}

function localParts(instant: Date, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(instant).map((part) => [part.type, part.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/** The local calendar date ("YYYY-MM-DD") of an instant in `timeZone`. */
export function businessDay(instant: Date | string, timeZone: string): string {
  const { year, month, day } = localParts(new Date(instant), timeZone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Offset of `timeZone` from UTC at `instant`, in minutes (Stockholm: 60 in winter, 120 in summer). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The UTC instant of a local wall-clock time (`date` "YYYY-MM-DD", `time` "HH:MM") in `timeZone`.
 * Like java.time and Temporal's "compatible" rule: a time that occurs twice (autumn) is its earlier
 * occurrence; a time skipped (spring) moves forward by the gap.
 */
export function localToInstant(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const hours = 3_600_000;
  const offsetBefore = offsetMinutes(new Date(wall - 12 * hours), timeZone) * 60_000;
  const offsetAfter = offsetMinutes(new Date(wall + 12 * hours), timeZone) * 60_000;
  const candidates = [wall - offsetBefore, wall - offsetAfter].sort((a, b) => a - b);
  const matching = candidates.find((instant) => instant + offsetMinutes(new Date(instant), timeZone) * 60_000 === wall);
  return new Date(matching ?? wall - offsetBefore);
}

/** [start, end) of a business day as UTC instants: 24 hours, or 23/25 on DST change days. */
export function dayBounds(date: string, timeZone: string): { start: Date; end: Date } {
  return { start: localToInstant(date, '00:00', timeZone), end: localToInstant(nextDate(date), '00:00', timeZone) };
}

/** The calendar date after `date`. */
export function nextDate(date: string, days = 1): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** When the nightly run for business date `date` looks at the data: `time` on the next local day (default 02:00). */
export function cutoffFor(date: string, time: string, timeZone: string): Date {
  return localToInstant(nextDate(date), time, timeZone);
}
