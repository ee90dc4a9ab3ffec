/**
 * A time axis for the report's pictures: where an instant goes on the page, which ticks to label,
 * and how instants and durations are written (always UTC, to the precision the instants need).
 *
 * The axis is linear, except that a gap which dwarfs every other (a redelivery a week later, a
 * cut-off days after a story of minutes) is cut out and drawn as a labelled break, so the part that
 * tells the story keeps its width. A break is never silent: the picture names the time it hides.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Tick steps, finest first; multiples of a day are counted from 1970-01-01 (UTC midnights). */
const STEPS = [SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

/** At most this many gaps are cut out of one axis. */
const MAX_BREAKS = 3;
/** A gap is cut only when it is at least this share of the whole span… */
const BREAK_SHARE = 0.25;
/** …and at least this many times every gap left uncut (cutting every gap would leave nothing to see). */
const BREAK_RATIO = 4;

export interface AxisSegment {
  /** The time shown (ms), a little wider than the instants in it. */
  from: number;
  to: number;
  /** Where it is drawn (px). */
  x0: number;
  x1: number;
}

export interface AxisBreak {
  x0: number;
  x1: number;
  /** The time cut out between the last instant before and the first after. */
  gapMs: number;
}

export interface AxisTick {
  at: number;
  x: number;
  /** "HH:MM" (":SS" when the step is finer than a minute), or "MM-DD" for steps of days. */
  label: string;
  /** The UTC date, on the first tick of a segment and wherever the date changes. */
  date?: string;
}

export interface TimeAxis {
  segments: AxisSegment[];
  breaks: AxisBreak[];
  ticks: AxisTick[];
  /** The position of an instant (clamped to the nearest segment). */
  x(ms: number): number;
}

export interface AxisOptions {
  /** Width of a break (px). */
  breakWidth?: number;
  /** Least width of a segment, even one of a single instant (px). */
  minSegmentWidth?: number;
  /** Room kept free at both ends of each segment, so marks are not cut (px). */
  inset?: number;
  /** Least distance between two labelled ticks (px). */
  tickSpacing?: number;
}

/** Lays out `instants` (ms since the epoch) between x0 and x1; null when there is none. */
export function timeAxis(instants: readonly number[], x0: number, x1: number, options: AxisOptions = {}): TimeAxis | null {
  const { breakWidth = 28, minSegmentWidth = 56, inset = 10, tickSpacing = 48 } = options;
  const sorted = [...new Set(instants.filter(Number.isFinite))].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const span = sorted.at(-1)! - sorted[0]!;

  const gaps = sorted.slice(1).map((at, i) => ({ i, gap: at - sorted[i]! }));
  const cut = chooseBreaks(gaps, span);
  const clusters: number[][] = [[]];
  sorted.forEach((at, i) => {
    if (i > 0 && cut.has(i - 1)) clusters.push([]);
    clusters.at(-1)!.push(at);
  });
  // A segment shows at least 1/100 of the largest gap cut (or two minutes around a lone instant), so a
  // cluster of seconds beside a gap of days is not blown up to look like hours.
  const largestCut = Math.max(0, ...[...cut].map((i) => gaps[i]!.gap));
  const floor = cut.size > 0 ? largestCut / 100 : span === 0 ? 2 * MINUTE : 0;
  const shown = clusters.map((cluster) => {
    const from = cluster[0]!;
    const to = cluster.at(-1)!;
    const pad = Math.max(0, floor - (to - from)) / 2;
    return { from: from - pad, to: to + pad, duration: to - from };
  });

  // Width goes by the time the instants really span (a lone instant needs only the least width); the floor only sets the scale.
  const available = x1 - x0 - cut.size * breakWidth;
  const spare = Math.max(0, available - shown.length * minSegmentWidth);
  const total = shown.reduce((sum, s) => sum + s.duration, 0);
  const segments: AxisSegment[] = [];
  const breaks: AxisBreak[] = [];
  let x = x0;
  shown.forEach((s, i) => {
    const width = shown.length === 1 ? x1 - x0 : minSegmentWidth + (total === 0 ? spare / shown.length : (spare * s.duration) / total);
    segments.push({ from: s.from, to: s.to, x0: x, x1: x + width });
    x += width;
    const next = clusters[i + 1];
    if (next) {
      breaks.push({ x0: x, x1: x + breakWidth, gapMs: next[0]! - clusters[i]!.at(-1)! });
      x += breakWidth;
    }
  });

  const position = (ms: number): number => {
    const segment = segments.find((s) => ms <= s.to) ?? segments.at(-1)!;
    const inner0 = segment.x0 + inset;
    const inner1 = segment.x1 - inset;
    if (segment.to === segment.from) return (inner0 + inner1) / 2;
    const t = Math.min(1, Math.max(0, (ms - segment.from) / (segment.to - segment.from)));
    return inner0 + t * (inner1 - inner0);
  };
  return { segments, breaks, ticks: segments.flatMap((s) => ticksOf(s, position, inset, tickSpacing)), x: position };
}

/** The gaps to cut: the largest k (k ≤ MAX_BREAKS, some gap left uncut) that are each a big share of the span and dwarf every gap left. */
function chooseBreaks(gaps: readonly { i: number; gap: number }[], span: number): Set<number> {
  const largest = [...gaps].sort((a, b) => b.gap - a.gap);
  let chosen = new Set<number>();
  for (let k = 1; k <= Math.min(MAX_BREAKS, largest.length - 1); k++) {
    const smallestCut = largest[k - 1]!.gap;
    if (smallestCut < BREAK_SHARE * span) break;
    if (smallestCut >= BREAK_RATIO * largest[k]!.gap) chosen = new Set(largest.slice(0, k).map((g) => g.i));
  }
  return chosen;
}

function ticksOf(segment: AxisSegment, x: (ms: number) => number, inset: number, spacing: number): AxisTick[] {
  const width = segment.x1 - segment.x0 - 2 * inset;
  const duration = segment.to - segment.from;
  if (duration === 0) return [{ at: segment.from, x: x(segment.from), label: clock(segment.from, segment.from % MINUTE !== 0), date: utcDate(segment.from) }];
  const step = STEPS.find((s) => (duration / s) * spacing <= width) ?? STEPS.at(-1)!;
  const ticks: AxisTick[] = [];
  let lastDate = '';
  for (let at = Math.ceil(segment.from / step) * step; at <= segment.to; at += step) {
    const date = utcDate(at);
    ticks.push({ at, x: x(at), label: step >= DAY ? date.slice(5) : clock(at, step < MINUTE), ...(date !== lastDate ? { date } : {}) });
    lastDate = date;
  }
  return ticks;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const clock = (ms: number, seconds: boolean): string => {
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}${seconds ? `:${pad2(d.getUTCSeconds())}` : ''}`;
};

/** How precisely a set of instants must be written: minutes, seconds, or milliseconds. */
export function precisionOf(instants: readonly number[]): 'minute' | 'second' | 'ms' {
  if (instants.some((ms) => ms % SECOND !== 0)) return 'ms';
  return instants.some((ms) => ms % MINUTE !== 0) ? 'second' : 'minute';
}

/** "2024-06-10 21:50" (UTC; seconds or milliseconds only when the precision asks), or "21:50" with `timeOnly`. */
export function formatInstant(ms: number, precision: 'minute' | 'second' | 'ms' = 'minute', timeOnly = false): string {
  const iso = new Date(ms).toISOString(); // 2024-06-10T21:50:00.000Z
  const time = iso.slice(11, precision === 'minute' ? 16 : precision === 'second' ? 19 : 23);
  return timeOnly ? time : `${iso.slice(0, 10)} ${time}`;
}

/** A duration in at most two adjacent units: "+1 h 25 min", "−3 min", "2 d 4 h", "0 s". */
export function formatDuration(ms: number, signed = false): string {
  const rest0 = Math.abs(ms);
  if (rest0 === 0) return '0 s';
  const sign = ms < 0 ? '−' : signed ? '+' : '';
  let rest = rest0;
  const parts: string[] = [];
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['min', MINUTE], ['s', SECOND], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count} ${unit}`);
      rest -= count * size;
    } else if (parts.length > 0) break;
    if (parts.length === 2) break;
  }
  return `${sign}${parts.join(' ')}`;
}
