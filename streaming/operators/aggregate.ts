/**
 * The aggregate of one output key, maintained incrementally from per-order contributions.
 * Each order's contribution is *set* (replacing its previous one) or *retracted* (null), never added
 * twice: applying the same contribution again changes nothing, so a replay of the upstream stage
 * cannot double-count. Sums are exact (integers, or decimals as scaled bigints); count is the number
 * of contributing orders; min/max/latest are cached and recomputed only when the current extreme is
 * retracted.
 */
import { fromUnits, toUnits } from '../../src/domain/money.ts';
import type { Aggregation, OutputRow, OutputValue } from '../../src/transforms/stream-dsl.ts';

export interface StoredContribution {
  values: OutputRow;
  /** Orders placed later win `latest` (arrival ISO + event id: a total order). */
  stamp: string;
}

export class KeyAggregate {
  readonly entries = new Map<string, StoredContribution>();
  private readonly sums = new Map<string, bigint>();
  private readonly extremes = new Map<string, { value: OutputValue; stamp: string; stale: boolean }>();

  constructor(private readonly aggregations: Record<string, Aggregation>) {}

  /** Sets (or with null, retracts) what `orderId` contributes. */
  apply(orderId: string, next: StoredContribution | null): void {
    const previous = this.entries.get(orderId);
    if (previous) this.account(previous, -1n);
    if (next) {
      this.entries.set(orderId, next);
      this.account(next, 1n);
    } else {
      this.entries.delete(orderId);
    }
    for (const [column, aggregation] of Object.entries(this.aggregations)) {
      if (aggregation.op === 'count' || aggregation.op === 'sum') continue;
      const cached = this.extremes.get(column);
      if (!cached || cached.stale) continue;
      if (aggregation.op === 'latest') {
        // Replacing or retracting the entry that holds the latest value forces a recompute.
        if (previous && previous.stamp === cached.stamp) cached.stale = true;
        else if (next && next.stamp >= cached.stamp) Object.assign(cached, { value: next.values[aggregation.field] ?? null, stamp: next.stamp });
        continue;
      }
      const before = previous?.values[aggregation.field] ?? null;
      const after = next?.values[aggregation.field] ?? null;
      // Retracting the current extreme forces a recompute; a new value can only improve it.
      if (before !== null && before === cached.value) cached.stale = true;
      else if (after !== null && (cached.value === null || better(aggregation.op, after, cached.value))) cached.value = after;
    }
  }

  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** The aggregated columns (key columns are added by the caller). */
  row(): OutputRow {
    const row: OutputRow = {};
    for (const [column, aggregation] of Object.entries(this.aggregations)) {
      switch (aggregation.op) {
        case 'count':
          row[column] = this.entries.size;
          break;
        case 'sum': {
          const total = this.sums.get(column) ?? 0n;
          row[column] = aggregation.scale === 'integer' ? Number(total) : fromUnits(total, aggregation.scale);
          break;
        }
        default:
          row[column] = this.extreme(column, aggregation);
      }
    }
    return row;
  }

  private account(contribution: StoredContribution, sign: bigint): void {
    for (const [column, aggregation] of Object.entries(this.aggregations)) {
      if (aggregation.op !== 'sum') continue;
      const value = contribution.values[aggregation.field];
      if (value === null || value === undefined) continue;
      const units = aggregation.scale === 'integer' ? BigInt(value) : toUnits(String(value), aggregation.scale);
      this.sums.set(column, (this.sums.get(column) ?? 0n) + sign * units);
    }
  }

  private extreme(column: string, aggregation: Extract<Aggregation, { op: 'min' | 'max' | 'latest' }>): OutputValue {
    const cached = this.extremes.get(column);
    if (cached && !cached.stale) return cached.value;
    let value: OutputValue = null;
    let stamp = '';
    for (const entry of this.entries.values()) {
      const candidate = entry.values[aggregation.field] ?? null;
      if (aggregation.op === 'latest') {
        if (entry.stamp >= stamp) {
          stamp = entry.stamp;
          value = candidate;
        }
      } else if (candidate !== null && (value === null || better(aggregation.op, candidate, value))) {
        value = candidate;
      }
    }
    this.extremes.set(column, { value, stamp, stale: false });
    return value;
  }
}

function better(op: 'min' | 'max', candidate: OutputValue, current: OutputValue): boolean {
  if (candidate === null) return false;
  if (current === null) return true;
  return op === 'min' ? candidate < current : candidate > current;
}
