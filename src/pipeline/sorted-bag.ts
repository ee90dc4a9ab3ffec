/**
 * An ordered multiset kept as a list of short sorted chunks: add and remove cost O(√n) whatever the
 * size (a plain sorted array moves every later item on each change, which for one output key fed by a
 * million source rows is megabytes per event), the smallest and largest are at hand, and each item
 * costs one array slot. The aggregates use it for min, max and latest, whose extreme must be found
 * again when the source row holding it is retracted.
 */

/** Chunks split past this many items (and are dropped when empty). */
const CHUNK = 512;

export class SortedBag<T> {
  private readonly chunks: T[][] = [];
  private count = 0;

  /** `less`: a strict weak order; items neither less than the other are kept in the order they were added. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.count;
  }

  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  last(): T | undefined {
    const chunk = this.chunks[this.chunks.length - 1];
    return chunk?.[chunk.length - 1];
  }

  /** Adds `item` after every item it is not less than. */
  add(item: T): void {
    this.count += 1;
    const { chunks, less } = this;
    if (chunks.length === 0) {
      chunks.push([item]);
      return;
    }
    // Most items come in order (latest's stamps are arrival times; min/max of event times nearly):
    // one not less than the last item goes at the end without a search.
    const lastChunk = chunks[chunks.length - 1]!;
    if (!less(item, lastChunk[lastChunk.length - 1]!)) {
      lastChunk.push(item);
      if (lastChunk.length > CHUNK) chunks.push(lastChunk.splice(lastChunk.length >> 1));
      return;
    }
    // The first chunk whose last item is greater than `item`, else the last chunk.
    let low = 0;
    let high = chunks.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      const chunk = chunks[mid]!;
      if (less(item, chunk[chunk.length - 1]!)) high = mid;
      else low = mid + 1;
    }
    const chunk = chunks[low]!;
    let at = upperBound(chunk, item, less);
    if (at === chunk.length) chunk.push(item);
    else chunk.splice(at, 0, item);
    if (chunk.length > CHUNK) {
      at = chunk.length >> 1;
      chunks.splice(low + 1, 0, chunk.splice(at));
    }
  }

  /** Removes one item equal in order to `item` for which `same` holds; false when there is none. */
  remove(item: T, same: (a: T, b: T) => boolean): boolean {
    const { chunks, less } = this;
    // The first chunk whose last item is not less than `item`: where the run of its equals starts.
    let low = 0;
    let high = chunks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const chunk = chunks[mid]!;
      if (less(chunk[chunk.length - 1]!, item)) low = mid + 1;
      else high = mid;
    }
    for (let index = low; index < chunks.length; index += 1) {
      const chunk = chunks[index]!;
      for (let at = index === low ? lowerBound(chunk, item, less) : 0; at < chunk.length; at += 1) {
        const candidate = chunk[at]!;
        if (less(item, candidate)) return false;
        if (!same(candidate, item)) continue;
        chunk.splice(at, 1);
        if (chunk.length === 0) chunks.splice(index, 1);
        this.count -= 1;
        return true;
      }
    }
    return false;
  }
}

function lowerBound<T>(items: T[], item: T, less: (a: T, b: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (less(items[mid]!, item)) low = mid + 1;
    else high = mid;
  }
  return low;
}

function upperBound<T>(items: T[], item: T, less: (a: T, b: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (less(item, items[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}
