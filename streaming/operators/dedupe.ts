/**
 * Dedupe by event id, bounded by time: an id is remembered with the arrival time of its first
 * delivery and a redelivery counts as a duplicate while it arrives within `retainMs` of that. Expiry is
 * decided at lookup from the two arrival times (a redelivery carries the original's event time, so
 * event time cannot bound it), never by when the store happens to be cleaned, so the answer does not
 * depend on batch boundaries or restarts. `sweep` frees memory and reports the ids it dropped so the
 * runner can tombstone them in the changelog.
 */
export class DedupeStore {
  private readonly seen = new Map<string, number>();
  constructor(readonly retainMs: number) {}

  /** True when `eventId` was first delivered no more than `retainMs` before `arrivalMs`. */
  isDuplicate(eventId: string, arrivalMs: number): boolean {
    const firstArrivalMs = this.seen.get(eventId);
    return firstArrivalMs !== undefined && arrivalMs - firstArrivalMs <= this.retainMs;
  }

  remember(eventId: string, arrivalMs: number): void {
    this.seen.set(eventId, arrivalMs);
  }

  /** Drops ids first delivered more than `retainMs` before `arrivalMs` (the newest arrival seen); returns them. */
  sweep(arrivalMs: number): string[] {
    const dropped: string[] = [];
    const limit = arrivalMs - this.retainMs;
    for (const [eventId, firstArrivalMs] of this.seen) {
      if (firstArrivalMs < limit) {
        this.seen.delete(eventId);
        dropped.push(eventId);
      }
    }
    return dropped;
  }

  get size(): number {
    return this.seen.size;
  }
}
