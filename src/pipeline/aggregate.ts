/**
 * The aggregate of one output key, maintained incrementally from per-source-row contributions.
 * Each source row's contribution is *set* (replacing its previous one) or *retracted* (null), never
 * added twice: applying the same contribution again changes nothing, so a replay cannot double-count.
 * Sums and means are exact (integers, or decimals as scaled bigints); count is the number of
 * contributing source rows; min/max/latest are cached and recomputed only when the current extreme is
 * retracted.
 *
 * A KeyAggregate holds the source rows of one input partition; its `partial()` is what that partition
 * adds to the key, and `combinePartials` merges the partitions' partials into the output row exactly
 * (counts, sums and the sums and counts of means add up, min/max/latest pick among the partials' extremes).
 */
import { divRound, fromUnits, toUnits } from '../decimal.ts';
import type { Aggregation, OutputRow, OutputValue } from './dsl.ts';

/**
 * One partition's share of a key, per output column: count → source rows; sum → total in scaled units
 * (a bigint as text, exact in JSON); avg → [total in scaled units, values counted]; min/max → the
 * extreme value; latest → [value, stamp].
 */
export type PartialAggregate = Record<string, OutputValue | [OutputValue, string] | [string, number]>;

export interface StoredContribution {
  values: OutputRow;
  /** Source rows upserted later win `latest` (arrival ISO + event id: a total order). */
  stamp: string;
}

/** What a source processor holds per output key: a partition's source rows' share of it. */
export interface RowAggregate {
  /** Sets what source row `sourceKey` contributes: `previous` what it contributed until now (null: nothing), `next` what it does from now on. */
  set(sourceKey: string, previous: StoredContribution | null, next: StoredContribution | null): void;
  readonly isEmpty: boolean;
  /** How many source rows contribute. */
  readonly rows: number;
  partial(): PartialAggregate;
}

export class KeyAggregate implements RowAggregate {
  readonly entries = new Map<string, StoredContribution>();
  private readonly sums = new Map<string, bigint>();
  /** avg columns: how many non-NULL values the sum holds. */
  private readonly counted = new Map<string, number>();
  private readonly extremes = new Map<string, { value: OutputValue; stamp: string; stale: boolean }>();

  private readonly sumColumns: [string, Extract<Aggregation, { op: 'sum' | 'avg' }>][];
  private readonly extremeColumns: [string, Extract<Aggregation, { op: 'min' | 'max' | 'latest' }>][];

  constructor(private readonly aggregations: Record<string, Aggregation>) {
    const columns = Object.entries(aggregations);
    this.sumColumns = columns.filter((entry): entry is [string, Extract<Aggregation, { op: 'sum' | 'avg' }>] => entry[1].op === 'sum' || entry[1].op === 'avg');
    this.extremeColumns = columns.filter((entry): entry is [string, Extract<Aggregation, { op: 'min' | 'max' | 'latest' }>] => entry[1].op === 'min' || entry[1].op === 'max' || entry[1].op === 'latest');
  }

  /** Sets (or with null, retracts) what source row `sourceKey` contributes. */
  apply(sourceKey: string, next: StoredContribution | null): void {
    const previous = this.entries.get(sourceKey);
    if (previous) this.account(previous, -1n);
    if (next) {
      this.entries.set(sourceKey, next);
      this.account(next, 1n);
    } else {
      this.entries.delete(sourceKey);
    }
    for (const [column, aggregation] of this.extremeColumns) {
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

  /** RowAggregate's set: the previous contribution is the one kept for `sourceKey`. */
  set(sourceKey: string, _previous: StoredContribution | null, next: StoredContribution | null): void {
    this.apply(sourceKey, next);
  }

  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  get rows(): number {
    return this.entries.size;
  }

  /** What these source rows add to the key (see PartialAggregate). */
  partial(): PartialAggregate {
    const partial: PartialAggregate = {};
    for (const [column, aggregation] of Object.entries(this.aggregations)) {
      switch (aggregation.op) {
        case 'count':
          partial[column] = this.entries.size;
          break;
        case 'sum':
          partial[column] = (this.sums.get(column) ?? 0n).toString();
          break;
        case 'avg':
          partial[column] = [(this.sums.get(column) ?? 0n).toString(), this.counted.get(column) ?? 0];
          break;
        case 'latest': {
          const value = this.extreme(column, aggregation);
          partial[column] = [value, this.extremes.get(column)!.stamp];
          break;
        }
        default:
          partial[column] = this.extreme(column, aggregation);
      }
    }
    return partial;
  }

  /** The aggregated columns of these source rows alone (key columns are added by the caller). */
  row(): OutputRow {
    return combinePartials(this.aggregations, [this.partial()]);
  }

  private account(contribution: StoredContribution, sign: bigint): void {
    for (const [column, aggregation] of this.sumColumns) {
      const value = contribution.values[aggregation.field];
      if (value === null || value === undefined) continue;
      const units = aggregation.scale === 'integer' ? BigInt(value as number) : toUnits(String(value), aggregation.scale);
      this.sums.set(column, (this.sums.get(column) ?? 0n) + sign * units);
      if (aggregation.op === 'avg') this.counted.set(column, (this.counted.get(column) ?? 0) + Number(sign));
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

/** The aggregated columns of a key from the partials of every partition holding some of its source rows. */
export function combinePartials(aggregations: Record<string, Aggregation>, partials: Iterable<PartialAggregate>): OutputRow {
  const row: OutputRow = {};
  const list = [...partials];
  for (const [column, aggregation] of Object.entries(aggregations)) {
    switch (aggregation.op) {
      case 'count':
        row[column] = list.reduce((total, partial) => total + Number(partial[column] ?? 0), 0);
        break;
      case 'sum': {
        const total = list.reduce((sum, partial) => sum + BigInt(String(partial[column] ?? '0')), 0n);
        row[column] = aggregation.scale === 'integer' ? Number(total) : fromUnits(total, aggregation.scale);
        break;
      }
      case 'avg': {
        let total = 0n;
        let counted = 0;
        for (const partial of list) {
          const [sum, n] = (partial[column] as [string, number] | undefined) ?? ['0', 0];
          total += BigInt(sum);
          counted += n;
        }
        row[column] = counted === 0 ? null : fromUnits(divRound(total, BigInt(counted)), aggregation.scale);
        break;
      }
      case 'latest': {
        let value: OutputValue = null;
        let stamp = '';
        for (const partial of list) {
          const [candidate, candidateStamp] = (partial[column] as [OutputValue, string] | undefined) ?? [null, ''];
          if (candidateStamp >= stamp) [value, stamp] = [candidate, candidateStamp];
        }
        row[column] = value;
        break;
      }
      default: {
        let value: OutputValue = null;
        for (const partial of list) {
          const candidate = (partial[column] ?? null) as OutputValue;
          if (better(aggregation.op, candidate, value)) value = candidate;
        }
        row[column] = value;
      }
    }
  }
  return row;
}

function better(op: 'min' | 'max', candidate: OutputValue, current: OutputValue): boolean {
  if (candidate === null) return false;
  if (current === null) return true;
  return op === 'min' ? candidate < current : candidate > current;
}
