/**
 * A table built from an entity topic, keeping every version of each row with its arrival time and
 * event time, so a lookup can be answered *as of a point* instead of "whatever was read last":
 *   latest(key, arrival)            — the row as it stood when an event that arrived at `arrival` was
 *                                     processed in arrival order (KStream-KTable join semantics);
 *   asOfEventTime(key, arrival, t)  — among the versions known by then, the newest by event time ≤ t.
 * Pinning lookups to the arrival time makes the join deterministic whatever order the runner happens
 * to read the topics in (and after a restart); versions are kept for the life of the process.
 */
export interface Version<V> {
  arrivalMs: number;
  eventTimeMs: number;
  /** null: the row was deleted (a tombstone). */
  value: V | null;
}

export class VersionedTable<V> {
  private readonly rows = new Map<string, Version<V>[]>();
  private versionCount = 0;

  put(key: string, version: Version<V>): void {
    let versions = this.rows.get(key);
    if (!versions) {
      versions = [];
      this.rows.set(key, versions);
    }
    // Versions stay sorted by arrival; ties keep read order (they arrived "at once").
    let index = versions.length;
    while (index > 0 && versions[index - 1]!.arrivalMs > version.arrivalMs) index -= 1;
    versions.splice(index, 0, version);
    this.versionCount += 1;
  }

  /** The row as it stood for an event that arrived at `arrivalMs` (versions arriving at the same instant count as before it). */
  latest(key: string, arrivalMs: number): V | undefined {
    const versions = this.rows.get(key);
    if (!versions) return undefined;
    for (let index = versions.length - 1; index >= 0; index -= 1) {
      const version = versions[index]!;
      if (version.arrivalMs <= arrivalMs) return version.value ?? undefined;
    }
    return undefined;
  }

  /** The newest version by event time at or before `eventTimeMs`, among those arrived by `arrivalMs`. */
  asOfEventTime(key: string, arrivalMs: number, eventTimeMs: number): V | undefined {
    const versions = this.rows.get(key);
    if (!versions) return undefined;
    let best: Version<V> | undefined;
    for (const version of versions) {
      if (version.arrivalMs > arrivalMs) break;
      if (version.eventTimeMs <= eventTimeMs && (!best || version.eventTimeMs >= best.eventTimeMs)) best = version;
    }
    return best?.value ?? undefined;
  }

  get size(): { keys: number; versions: number } {
    return { keys: this.rows.size, versions: this.versionCount };
  }
}
