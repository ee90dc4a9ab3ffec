/**
 * The shop's business rules for its streaming pipelines, written once (the batch SQL in legacy-sql.ts
 * states the same rules in SQL): an order line's and an order's net amount, the EUR rate of an order,
 * an amount in EUR. Exact decimals, rounded half away from zero at 2 decimals — what PostgreSQL's and
 * MariaDB's ROUND(numeric, 2) do — so batch and stream agree to the cent (DESIGN.md section 4.9).
 */
import { divRound, fromUnits, memoised, toUnits, type PipelineContext, type ViewOf } from 'dualrun';
import type { Shop } from './domain.ts';

export const MONEY_SCALE = 2;
export const RATE_SCALE = 8;

type Entities = Shop['input']['entities'];
export type Order = ViewOf<Entities['orders']>;
export type OrderLine = Order['lines'][number];
type FxTables = { fxRates: { view: ViewOf<Entities['fxRates']>; key: { currency: string; rateDate: string } } };

/** Net amount of an order line in its currency: round(quantity × unit price × (1 − discount/100), 2). */
export function netLineAmount(quantity: number, unitPrice: string, discountPct: string): string {
  const price = toUnits(unitPrice, MONEY_SCALE); // cents
  const keep = 10_000n - toUnits(discountPct, 2); // hundredths of a percent kept, of 10000
  return fromUnits(divRound(BigInt(quantity) * price * keep, 10_000n), MONEY_SCALE);
}

// Three pipelines convert the same order's net amount at the same rate, one after the other: the
// last conversion is kept (the answer is a pure function of the two texts).
const lastEur: { amount?: string; rate?: string; eur: string } = { eur: '' };
const RATE_UNIT = 10n ** BigInt(RATE_SCALE);

/** An amount converted to EUR at `rateToEur` (EUR per unit), rounded to the cent. */
export function toEur(amount: string, rateToEur: string): string {
  if (amount === lastEur.amount && rateToEur === lastEur.rate) return lastEur.eur;
  const scaled = toUnits(amount, MONEY_SCALE) * toUnits(rateToEur, RATE_SCALE);
  const eur = fromUnits(divRound(scaled, RATE_UNIT), MONEY_SCALE);
  lastEur.amount = amount;
  lastEur.rate = rateToEur;
  lastEur.eur = eur;
  return eur;
}

// Every pipeline recomputes an order's amounts on every change; the lines array travels unchanged from
// state to state, so amounts are worked out once per lines array and kept on it (out of the changelog's JSON).
const NET = Symbol('net amount');

/** A line's net amount (netLineAmount), memoised per line object. */
export function lineNetAmount(line: OrderLine): string {
  return memoised(line, NET, ({ quantity, unitPrice, discountPct }) => netLineAmount(quantity, unitPrice, discountPct));
}

/** Sum of the order's line nets, in the order currency. */
export function orderNetAmount(order: Order): string {
  return memoised(order.lines, NET, (lines) => {
    let cents = 0n;
    for (const line of lines) cents += toUnits(lineNetAmount(line), MONEY_SCALE);
    return fromUnits(cents, MONEY_SCALE);
  });
}

/** EUR per unit of the order currency on the order's business date; EUR is 1; undefined when no rate is known. */
export function rateToEur(order: Order, { tables, dayOf }: PipelineContext<FxTables>): string | undefined {
  if (order.currency === 'EUR') return '1';
  return tables.get('fxRates', { currency: order.currency, rateDate: dayOf(order.placedAt) })?.rateToEur;
}

/** `amount` in EUR at the order's rate, or null without a rate. */
export function amountInEur(amount: string, rate: string | undefined): string | null {
  return rate === undefined ? null : toEur(amount, rate);
}
