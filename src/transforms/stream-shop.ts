/**
 * Business rules the five streaming pipelines share, written once on top of src/domain (the batch
 * SQL states the same rules in SQL): an order's net amount, its EUR rate, and instants in the
 * pinned output form. Pure functions of an order view and table lookups.
 */
import type { Order } from '../domain/entities.ts';
import { MONEY_SCALE, fromUnits, netLineAmount, toEur, toUnits } from '../domain/money.ts';
import { businessDay } from '../domain/time.ts';
import type { OrderView, TableLookup } from './stream-dsl.ts';

/** Sum of the order's line nets, in the order currency. */
export function orderNetAmount(order: Order): string {
  let cents = 0n;
  for (const line of order.lines) cents += toUnits(netLineAmount(line.quantity, line.unitPrice, line.discountPct), MONEY_SCALE);
  return fromUnits(cents, MONEY_SCALE);
}

/** EUR per unit of the order currency on the order's business date; EUR is 1; undefined when no rate is known. */
export function rateToEur(view: OrderView, tables: TableLookup): string | undefined {
  const { currency, placedAt } = view.order;
  if (currency === 'EUR') return '1';
  return tables.get('fxRates', `${currency}:${businessDay(placedAt)}`)?.rateToEur;
}

/** `amount` in EUR at the order's rate, or null without a rate. */
export function amountInEur(amount: string, rate: string | undefined): string | null {
  return rate === undefined ? null : toEur(amount, rate);
}

/** An instant in the pinned output form: ISO UTC with milliseconds. */
export function outputInstant(instant: string): string {
  return new Date(instant).toISOString();
}
