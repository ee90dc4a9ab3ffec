/**
 * Dedupe by event id, bounded by time, kept per key: the ids of the events applied to one key (an
 * order) with the arrival time of their first delivery. A redelivery carries the original's key, so
 * the key's own ids are the only ones it can match; keeping them in the key's state means the state's
 * changelog record also persists them (one record per event instead of two).
 *
 * A redelivery counts as a duplicate while it arrives within `retainMs` of the first delivery.
 * Expiry is decided at lookup from the two arrival times (a redelivery carries the original's event
 * time, so event time cannot bound it), never by when ids happen to be pruned, so the answer does not
 * depend on batch boundaries or restarts.
 */
export type EventIds = Readonly<Record<string, number>>;

export class EventIdWindow {
  constructor(readonly retainMs: number) {}

  /** True when `eventId` was first delivered no more than `retainMs` before `arrivalMs`. */
  isDuplicate(ids: EventIds | undefined, eventId: string, arrivalMs: number): boolean {
    const firstArrivalMs = ids?.[eventId];
    return firstArrivalMs !== undefined && arrivalMs - firstArrivalMs <= this.retainMs;
  }

  /** `ids` plus `eventId`, without the ids that expired before `newestArrivalMs` (a new object). */
  remember(ids: EventIds | undefined, eventId: string, arrivalMs: number, newestArrivalMs: number): EventIds {
    // Copied id by id (no spread, no entries array): this runs for every event.
    const limit = newestArrivalMs - this.retainMs;
    const next: Record<string, number> = {};
    if (ids) for (const id in ids) if (ids[id]! >= limit) next[id] = ids[id]!;
    next[eventId] = arrivalMs;
    return next;
  }

  /** The ids that can still match a redelivery once an event arrived at `newestArrivalMs`; undefined when none. */
  live(ids: EventIds | undefined, newestArrivalMs: number): EventIds | undefined {
    if (!ids) return undefined;
    const limit = newestArrivalMs - this.retainMs;
    let expired = false;
    for (const eventId in ids) if (ids[eventId]! < limit) expired = true;
    if (!expired) return ids;
    let kept: Record<string, number> | undefined;
    for (const eventId in ids) if (ids[eventId]! >= limit) (kept ??= {})[eventId] = ids[eventId]!;
    return kept;
  }
}
