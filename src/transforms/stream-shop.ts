/**
 * Business rules the five streaming pipelines share, written once on top of src/domain (the batch
 * SQL states the same rules in SQL): an order's net amount, its EUR rate, and instants in the
 * pinned output form. Pure functions of an order view and table lookups.
 */
import type { Order, OrderLine } from '../domain/entities.ts';
import { MONEY_SCALE, fromUnits, netLineAmount, toEur, toUnits } from '../domain/money.ts';
import { businessDay, hasIsoInstantShape } from '../domain/time.ts';
import { memoised } from '../memo.ts';
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
// kept in state unchanged, so its amounts are worked out once per order object and kept on it
// (src/memo.ts: out of the changelog's JSON, not inherited by a copy with other lines).
const NET = Symbol('net amount');

/** A line's net amount (netLineAmount), memoised per line object. */
export function lineNetAmount(line: OrderLine): string {
  return memoised(line, NET, ({ quantity, unitPrice, discountPct }) => netLineAmount(quantity, unitPrice, discountPct));
}

/** Sum of the order's line nets, in the order currency. */
export function orderNetAmount(order: Order): string {
  return memoised(order, NET, ({ lines }) => {
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
  if (hasIsoInstantShape(instant) && !Number.isNaN(Date.parse(instant))) return instant;
  return new Date(instant).toISOString();
}
