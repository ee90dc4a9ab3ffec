/**
 * The aggregate of one output key as the streaming job keeps it: the contributions folded in, not
 * kept per source row. KeyAggregate (aggregate.ts) keeps every source row's contribution, which the
 * comparator needs (it names the rows behind a difference) but which is most of the job's memory —
 * several contributions per source row, each an object of values. This one keeps only what the
 * partial needs: the count of contributing rows, exact sums, and for min / max / latest an ordered
 * bag of the values (latest: with their stamps), so the extreme is found again when its holder leaves.
 *
 * Its caller says what a source row contributed before (`previous`): the source processor recomputes
 * it from the view it applied (contributions are a pure function of a view, the invariant a restore
 * already rests on), so setting the same contribution twice changes nothing here either. A pipeline
 * that breaks that invariant (an impure function, or a table version that arrived out of order after
 * a lookup it would have changed) leaves a value behind until the next restore recomputes everything;
 * KeyAggregate would have kept a stale contribution of that row instead.
 */
import { smallUnits, toUnits } from '../decimal.ts';
import type { PartialAggregate, RowAggregate, StoredContribution } from './aggregate.ts';
import type { Aggregation, OutputValue } from './dsl.ts';
import { SortedBag } from './sorted-bag.ts';

interface Stamped {
  stamp: string;
  value: OutputValue;
}

type Column =
  | { name: string; op: 'count' }
  | { name: string; op: 'sum' | 'avg'; field: string; scale: number | 'integer'; slot: number }
  | { name: string; op: 'min' | 'max'; field: string; slot: number }
  | { name: string; op: 'latest'; field: string; slot: number };

/** An aggregation's columns, worked out once per pipeline (every aggregate of it shares them). */
interface Plan {
  columns: Column[];
  sums: Extract<Column, { op: 'sum' | 'avg' }>[];
  extremes: Extract<Column, { op: 'min' | 'max' }>[];
  latests: Extract<Column, { op: 'latest' }>[];
}

const plans = new WeakMap<Record<string, Aggregation>, Plan>();

function planOf(aggregations: Record<string, Aggregation>): Plan {
  let plan = plans.get(aggregations);
  if (plan) return plan;
  plan = { columns: [], sums: [], extremes: [], latests: [] };
  for (const [name, aggregation] of Object.entries(aggregations)) {
    switch (aggregation.op) {
      case 'count':
        plan.columns.push({ name, op: 'count' });
        break;
      case 'sum':
      case 'avg': {
        const column = { name, op: aggregation.op, field: aggregation.field, scale: aggregation.scale, slot: plan.sums.length };
        plan.sums.push(column);
        plan.columns.push(column);
        break;
      }
      case 'min':
      case 'max': {
        const column = { name, op: aggregation.op, field: aggregation.field, slot: plan.extremes.length };
        plan.extremes.push(column);
        plan.columns.push(column);
        break;
      }
      case 'latest': {
        const column = { name, op: aggregation.op, field: aggregation.field, slot: plan.latests.length };
        plan.latests.push(column);
        plan.columns.push(column);
        break;
      }
    }
  }
  plans.set(aggregations, plan);
  return plan;
}

const lessValue = (a: OutputValue, b: OutputValue): boolean => (a as string | number) < (b as string | number);
const sameValue = (a: OutputValue, b: OutputValue): boolean => a === b;
const lessStamp = (a: Stamped, b: Stamped): boolean => a.stamp < b.stamp;
const sameStamped = (a: Stamped, b: Stamped): boolean => a.stamp === b.stamp && a.value === b.value;

export class FoldedAggregate implements RowAggregate {
  private readonly plan: Plan;
  private count = 0;
  /**
   * sum/avg columns: the total in scaled units, `small + big` — a number while it stays exact (a safe
   * integer: no bigint to allocate per contribution, which every event sets several of), the rest as a bigint.
   */
  private readonly small: number[];
  private readonly big: bigint[];
  /** avg columns: how many non-NULL values the sum holds. */
  private readonly counted: number[];
  /** min/max columns: their non-NULL values, in order. */
  private readonly values: SortedBag<OutputValue>[];
  /** latest columns: every contribution's value with its stamp, by stamp. */
  private readonly stamped: SortedBag<Stamped>[];

  constructor(aggregations: Record<string, Aggregation>) {
    this.plan = planOf(aggregations);
    this.small = this.plan.sums.map(() => 0);
    this.big = this.plan.sums.map(() => 0n);
    this.counted = this.plan.sums.map(() => 0);
    this.values = this.plan.extremes.map(() => new SortedBag<OutputValue>(lessValue));
    this.stamped = this.plan.latests.map(() => new SortedBag<Stamped>(lessStamp));
  }

  set(_sourceKey: string, previous: StoredContribution | null, next: StoredContribution | null): void {
    if (previous) this.account(previous, -1);
    if (next) this.account(next, 1);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  get rows(): number {
    return this.count;
  }

  partial(): PartialAggregate {
    const partial: PartialAggregate = {};
    for (const column of this.plan.columns) {
      switch (column.op) {
        case 'count':
          partial[column.name] = this.count;
          break;
        case 'sum':
          partial[column.name] = this.total(column.slot);
          break;
        case 'avg':
          partial[column.name] = [this.total(column.slot), this.counted[column.slot]!];
          break;
        case 'min':
          partial[column.name] = this.values[column.slot]!.first() ?? null;
          break;
        case 'max':
          partial[column.name] = this.values[column.slot]!.last() ?? null;
          break;
        case 'latest': {
          const newest = this.stamped[column.slot]!.last();
          partial[column.name] = newest ? [newest.value, newest.stamp] : [null, ''];
          break;
        }
      }
    }
    return partial;
  }

  /** A sum column's total in scaled units, as text (exact in JSON). */
  private total(slot: number): string {
    const big = this.big[slot]!;
    const small = this.small[slot]!;
    return big === 0n ? String(small) : (big + BigInt(small)).toString();
  }

  private account(contribution: StoredContribution, sign: 1 | -1): void {
    const { values } = contribution;
    this.count += sign;
    const { sums, extremes, latests } = this.plan;
    for (const column of sums) {
      const value = values[column.field];
      if (value === null || value === undefined) continue;
      const slot = column.slot;
      const units = column.scale === 'integer' ? (Number.isSafeInteger(value) ? (value as number) : undefined) : smallUnits(String(value), column.scale);
      if (units === undefined) {
        // Past what a number holds exactly (or not a number toUnits takes: it says why).
        const exact = column.scale === 'integer' ? BigInt(value as number) : toUnits(String(value), column.scale);
        this.big[slot]! += sign === 1 ? exact : -exact;
      } else {
        const total = this.small[slot]! + sign * units;
        if (Number.isSafeInteger(total)) this.small[slot] = total;
        else {
          this.big[slot]! += BigInt(this.small[slot]!) + BigInt(sign * units);
          this.small[slot] = 0;
        }
      }
      if (column.op === 'avg') this.counted[column.slot]! += sign;
    }
    for (const column of extremes) {
      const value = values[column.field] ?? null;
      if (value === null) continue;
      const bag = this.values[column.slot]!;
      if (sign === 1) bag.add(value);
      else bag.remove(value, sameValue);
    }
    for (const column of latests) {
      const item = { stamp: contribution.stamp, value: values[column.field] ?? null };
      const bag = this.stamped[column.slot]!;
      if (sign === 1) bag.add(item);
      else bag.remove(item, sameStamped);
    }
  }
}
