/**
 * Business rules the five streaming pipelines share, written once on top of src/domain (the batch
 * SQL states the same rules in SQL): an order's net amount, its EUR rate, and instants in the
 * pinned output form. Pure functions of an order view and table lookups.
 */
import type { Order, OrderLine } from '../domain/entities.ts';
import { MONEY_SCALE, fromUnits, netLineAmount, toEur, toUnits } from '../domain/money.ts';
import { businessDay } from '../domain/time.ts';
import type { OrderView, TableLookup } from './stream-dsl.ts';

const dayOfQuarterHour = new Map<number, string>();
/**
 * businessDay, memoised per quarter hour (UTC offsets change only on quarter hours, so every instant of
 * a quarter hour has the same local date): Intl formatting per event would dominate the stream's CPU.
 */
export function businessDayOf(instant: string): string {
  const bucket = Math.floor(Date.parse(instant) / 900_000);
  let day = dayOfQuarterHour.get(bucket);
  if (day === undefined) {
    day = businessDay(new Date(bucket * 900_000));
    if (dayOfQuarterHour.size > 100_000) dayOfQuarterHour.clear();
    dayOfQuarterHour.set(bucket, day);
  }
  return day;
}

// An order's view is recomputed on every change and by every pipeline; the order object itself is
// kept in state unchanged, so its amounts are worked out once per order object and kept on it under a
// non-enumerable symbol (left out of JSON, so of the changelog, and of object spreads, so a copy with
// other lines computes its own). Not a WeakMap: with an entry per order and line held, the garbage
// collector's ephemeron work grew with the state.
const NET = Symbol('net amount');

function memoised<T extends object>(target: T, compute: (target: T) => string): string {
  const known = (target as { [NET]?: string })[NET];
  if (known !== undefined) return known;
  const value = compute(target);
  if (Object.isExtensible(target)) Object.defineProperty(target, NET, { value, enumerable: false });
  return value;
}

/** A line's net amount (netLineAmount), memoised per line object. */
export function lineNetAmount(line: OrderLine): string {
  return memoised(line, ({ quantity, unitPrice, discountPct }) => netLineAmount(quantity, unitPrice, discountPct));
}

/** Sum of the order's line nets, in the order currency. */
export function orderNetAmount(order: Order): string {
  return memoised(order, ({ lines }) => {
    let cents = 0n;
    for (const line of lines) cents += toUnits(lineNetAmount(line), MONEY_SCALE);
    return fromUnits(cents, MONEY_SCALE);
  });
}

/** EUR per unit of the order currency on the order's business date; EUR is 1; undefined when no rate is known. */
export function rateToEur(view: OrderView, tables: TableLookup): string | undefined {
  const { currency, placedAt } = view.order;
  if (currency === 'EUR') return '1';
  return tables.get('fxRates', `${currency}:${businessDayOf(placedAt)}`)?.rateToEur;
}

/** `amount` in EUR at the order's rate, or null without a rate. */
export function amountInEur(amount: string, rate: string | undefined): string | null {
  return rate === undefined ? null : toEur(amount, rate);
}

/** An instant in the pinned output form: ISO UTC with milliseconds. */
export function outputInstant(instant: string): string {
  // Already in that form (24 characters, milliseconds, Z, a valid date): as it is; parsing per event costs.
  if (instant.length === 24 && instant[19] === '.' && instant[23] === 'Z' && instant[10] === 'T' && !Number.isNaN(Date.parse(instant))) return instant;
  return new Date(instant).toISOString();
}
