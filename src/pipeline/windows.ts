/**
 * Tumbling windows — business days in a time zone, or fixed lengths — and the watermark that closes them.
 *
 * The watermark an event sees is the largest event time of all *source events that arrived before it*
 * (arrival time header = the replay's global order). It is computed from every partition of the
 * source topic (each process reads them all, headers only, beside its own tasks), so it does not depend
 * on how many partitions the topic has, which process owns which, or in what order partitions are
 * read — two instances, one instance, or a restart after kill -9 all decide lateness identically.
 *
 * A window is final once the watermark passes its end plus grace. Instead of keeping every event
 * time, the index keeps per window the earliest arrival of any event in it (all of it, and the part at
 * or after start + grace); the window W closed at the earliest arrival of an event with event time ≥
 * end(W) + grace, which those minima give exactly (for a grace no longer than a window).
 */
import { businessDay, dayBounds } from '../time.ts';

const QUARTER_HOUR = 15 * 60_000;

/** How windows cut time: each window has an id that sorts like its start, and bounds [start, end). */
export interface WindowCalendar {
  /** What the windows are, for messages ("business days in Europe/Stockholm", "windows of 60 min"). */
  readonly description: string;
  windowOf(instantMs: number): string;
  boundsOf(window: string): { startMs: number; endMs: number };
}

/** Fixed-length windows aligned to the Unix epoch; a window's id is its start, ISO UTC. */
export class FixedCalendar implements WindowCalendar {
  readonly description: string;
  constructor(readonly sizeMs: number) {
    this.description = `windows of ${sizeMs % 3_600_000 === 0 ? `${sizeMs / 3_600_000} h` : `${sizeMs / 60_000} min`}`;
  }
  windowOf(instantMs: number): string {
    return new Date(Math.floor(instantMs / this.sizeMs) * this.sizeMs).toISOString();
  }
  boundsOf(window: string): { startMs: number; endMs: number } {
    const startMs = Date.parse(window);
    return { startMs, endMs: startMs + this.sizeMs };
  }
}

/** businessDay and dayBounds, cached: Intl formatting is far too slow for the per-event hot path. */
export class BusinessCalendar implements WindowCalendar {
  readonly description: string;
  private readonly dayOfQuarter = new Map<number, string>();
  private readonly bounds = new Map<string, { startMs: number; endMs: number }>();
  constructor(readonly timeZone: string) {
    this.description = `business days in ${timeZone}`;
  }

  windowOf(instantMs: number): string {
    return this.dayOf(instantMs);
  }

  /** Local date of an instant. Offsets change on quarter hours, so a quarter-hour bucket has one date. */
  dayOf(instantMs: number): string {
    const bucket = Math.floor(instantMs / QUARTER_HOUR);
    let day = this.dayOfQuarter.get(bucket);
    if (day === undefined) {
      day = businessDay(new Date(instantMs), this.timeZone);
      this.dayOfQuarter.set(bucket, day);
    }
    return day;
  }

  boundsOf(day: string): { startMs: number; endMs: number } {
    let result = this.bounds.get(day);
    if (!result) {
      const { start, end } = dayBounds(day, this.timeZone);
      result = { startMs: start.getTime(), endMs: end.getTime() };
      this.bounds.set(day, result);
    }
    return result;
  }
}

export class WindowCloser {
  /** Per window: earliest arrival of any event in it, and of those at or after start + grace. */
  private readonly minArrival = new Map<string, { all: number; afterGrace: number }>();
  /** Days sorted ascending, and per index the closing arrival (suffix minima), rebuilt when dirty. */
  private sortedDays: string[] = [];
  private closedAtCache = new Map<string, number>();
  private dirty = false;

  constructor(
    readonly calendar: WindowCalendar,
    readonly graceMs: number,
  ) {}

  /** Records a source event (from any partition) for the watermark. */
  observe(eventTimeMs: number, arrivalMs: number): void {
    const day = this.calendar.windowOf(eventTimeMs);
    const { startMs } = this.calendar.boundsOf(day);
    let entry = this.minArrival.get(day);
    if (!entry) {
      entry = { all: Infinity, afterGrace: Infinity };
      this.minArrival.set(day, entry);
      this.dirty = true;
    }
    if (arrivalMs < entry.all) {
      entry.all = arrivalMs;
      this.dirty = true;
    }
    if (eventTimeMs >= startMs + this.graceMs && arrivalMs < entry.afterGrace) {
      entry.afterGrace = arrivalMs;
      this.dirty = true;
    }
  }

  /**
   * The arrival time at which the window `day` closed (Infinity: still open): the earliest arrival
   * of an event whose event time is ≥ end(day) + grace. Assumes grace ≤ one window.
   */
  closedAt(day: string): number {
    if (this.dirty) this.rebuild();
    const cached = this.closedAtCache.get(day);
    if (cached !== undefined) return cached;
    // A day with no events of its own: find the first known day after it.
    let result = Infinity;
    for (const other of this.sortedDays) {
      if (other > day) {
        result = this.closingFromNext(day, other);
        break;
      }
    }
    return result;
  }

  /** Whether an event that arrived at `arrivalMs` finds the window of `day` already final. */
  isClosedFor(day: string, arrivalMs: number): boolean {
    return this.closedAt(day) < arrivalMs;
  }

  /** How many windows the index knows (state size, for status). */
  get dayCount(): number {
    return this.minArrival.size;
  }

  private closingFromNext(day: string, next: string): number {
    // Events of `next` are ≥ end(day) + grace unless next is the very next day and the event falls in its first `grace`.
    const nextStart = this.calendar.boundsOf(next).startMs;
    const dayEnd = this.calendar.boundsOf(day).endMs;
    const entry = this.minArrival.get(next)!;
    const fromNext = nextStart === dayEnd ? entry.afterGrace : entry.all;
    const index = this.sortedDays.indexOf(next);
    const later = index + 1 < this.sortedDays.length ? this.suffixAll[index + 1]! : Infinity;
    return Math.min(fromNext, later);
  }

  private suffixAll: number[] = [];

  private rebuild(): void {
    this.sortedDays = [...this.minArrival.keys()].sort();
    this.suffixAll = new Array<number>(this.sortedDays.length + 1).fill(Infinity);
    for (let index = this.sortedDays.length - 1; index >= 0; index -= 1) {
      this.suffixAll[index] = Math.min(this.minArrival.get(this.sortedDays[index]!)!.all, this.suffixAll[index + 1]!);
    }
    this.closedAtCache = new Map();
    for (let index = 0; index < this.sortedDays.length; index += 1) {
      const day = this.sortedDays[index]!;
      const next = this.sortedDays[index + 1];
      this.closedAtCache.set(day, next === undefined ? Infinity : this.closingFromNext(day, next));
    }
    this.dirty = false;
  }
}
