/** How the teaching chapters write their figures: counts with thousands separators, durations in a unit people read. */

export const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export const plural = (value: number, one: string, many = `${one}s`): string => `${count(value)} ${value === 1 ? one : many}`;

/** Milliseconds as seconds (under a minute), minutes, or hours with one decimal. */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A ratio as "×2.00". */
export const times = (ratio: number): string => `×${ratio.toFixed(2)}`;

/** Local wall-clock time "HH:MM" of an instant in a time zone. */
export function clock(instant: Date | string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
}

/** "Mon 3 Jun 14:05" in a time zone. */
export function dayClock(instant: Date | string, timeZone: string): string {
  const date = new Date(instant);
  const day = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }).format(date);
  return `${day} ${clock(date, timeZone)}`;
}
