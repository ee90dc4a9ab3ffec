import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyAggregate, type StoredContribution } from './aggregate.ts';
import { count, latest, max, min, sumDecimal, sumInteger, avg } from './dsl.ts';
import { FoldedAggregate } from './folded-aggregate.ts';
import { SortedBag } from './sorted-bag.ts';

const aggregations = { n: count(), units: sumInteger('units'), money: sumDecimal('money'), mean: avg('money', 2), first: min('at'), last: max('at'), cat: latest('cat') };

describe('FoldedAggregate', () => {
  it('gives the partial KeyAggregate gives, whatever the sets and retractions', () => {
    const contribution = fc.record({
      units: fc.integer({ min: -50, max: 50 }),
      money: fc.oneof(fc.constant(null), fc.integer({ min: -99_999, max: 99_999 }).map((cents) => (cents / 100).toFixed(2))),
      at: fc.oneof(fc.constant(null), fc.constantFrom('2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04')),
      cat: fc.oneof(fc.constant(null), fc.constantFrom('x', 'y', 'z')),
    });
    // Each step sets (or with null, retracts) one of a few source rows; stamps grow, as upserts' do.
    const step = fc.record({ row: fc.integer({ min: 0, max: 5 }), next: fc.option(contribution, { nil: null }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const kept = new KeyAggregate(aggregations);
        const folded = new FoldedAggregate(aggregations);
        const current = new Map<string, StoredContribution>();
        steps.forEach(({ row, next }, index) => {
          const key = `r${row}`;
          const stored = next === null ? null : { values: next, stamp: String(index).padStart(4, '0') };
          kept.set(key, current.get(key) ?? null, stored);
          folded.set(key, current.get(key) ?? null, stored);
          if (stored) current.set(key, stored);
          else current.delete(key);
          expect(folded.partial()).toEqual(kept.partial());
          expect(folded.rows).toBe(kept.rows);
          expect(folded.isEmpty).toBe(kept.isEmpty);
        });
      }),
    );
  });
});

describe('FoldedAggregate sums', () => {
  it('stay exact past what a number holds (totals kept as a number while exact, the rest as a bigint)', () => {
    const sums = { units: sumInteger('units'), money: sumDecimal('money'), mean: avg('money', 2) };
    const near = Number.MAX_SAFE_INTEGER;
    const units = fc.oneof(fc.integer({ min: -50, max: 50 }), fc.integer({ min: near - 1000, max: near }), fc.integer({ min: -near, max: -near + 1000 }));
    // Up to 22 digits before the point: past the 15 a number parses exactly, and sums past 2^53.
    const money = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 24n })).map(([negative, cents]) => `${negative ? '-' : ''}${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`);
    const step = fc.record({ row: fc.integer({ min: 0, max: 5 }), next: fc.option(fc.record({ units, money }), { nil: null }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const kept = new KeyAggregate(sums);
        const folded = new FoldedAggregate(sums);
        const current = new Map<string, StoredContribution>();
        for (const { row, next } of steps) {
          const key = `r${row}`;
          const stored = next === null ? null : { values: next, stamp: '' };
          kept.set(key, current.get(key) ?? null, stored);
          folded.set(key, current.get(key) ?? null, stored);
          if (stored) current.set(key, stored);
          else current.delete(key);
          expect(folded.partial()).toEqual(kept.partial());
        }
      }),
    );
  });
});

describe('SortedBag', () => {
  it('keeps items in order when they mostly come in order (the append without a search), equal ones as added', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -3, max: 40 })), { maxLength: 3000 }), (operations) => {
        // Objects, so that equal values stay tellable apart: which of them was added first.
        const bag = new SortedBag<{ value: number }>((a, b) => a.value < b.value);
        const reference: { value: number }[] = [];
        let value = 0;
        for (const [kind, step] of operations) {
          if (kind === 0 && reference.length > 0) {
            const item = reference[step % reference.length] ?? reference[0]!;
            expect(bag.remove(item, (a, b) => a === b)).toBe(true);
            reference.splice(reference.indexOf(item), 1);
          } else {
            value += step; // mostly up, now and then back a little or the same
            const item = { value };
            bag.add(item);
            reference.push(item);
          }
        }
        // Sorted by value, equal values in the order they were added (a stable sort of the additions).
        const expected = [...reference].sort((a, b) => a.value - b.value);
        const drained: { value: number }[] = [];
        for (let item = bag.first(); item !== undefined; item = bag.first()) {
          drained.push(item);
          bag.remove(item, (a, b) => a === b);
        }
        expect(drained.length).toBe(expected.length);
        drained.forEach((item, index) => expect(item).toBe(expected[index]));
      }),
    );
  });

  it('holds what was added and not removed, in order, across many chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 3000 }), (operations) => {
        const bag = new SortedBag<number>((a, b) => a < b);
        const reference: number[] = [];
        for (const [add, value] of operations) {
          if (add) {
            bag.add(value);
            reference.push(value);
          } else {
            const at = reference.indexOf(value);
            expect(bag.remove(value, (a, b) => a === b)).toBe(at >= 0);
            if (at >= 0) reference.splice(at, 1);
          }
        }
        reference.sort((a, b) => a - b);
        expect(bag.size).toBe(reference.length);
        expect(bag.first()).toBe(reference[0]);
        expect(bag.last()).toBe(reference[reference.length - 1]);
      }),
      { numRuns: 30 },
    );
  });
});
