/**
 * The shop's generator: a synthetic scenario of any size, in the shop's scenario format — customers, a
 * product catalogue, daily FX rates, and orders spread over business days with status changes,
 * cancellations, hard deletes, customers moving region, late arrivals and redeliveries at the requested
 * rates. Deterministic — one seeded PRNG drawn in a fixed order, no clock, no Map iteration — so the same
 * options give byte-identical files. Orders are made in event-time order and written straight out
 * through buffered writers that respect backpressure: memory grows with the customers, never with the
 * orders. File order is free (replay sorts by arrival), so an order's later status changes are written with it.
 */
import { dayBounds, fromUnits, nextDate, openScenarioFiles, seededRandom, writeScenarioInfo, type ScenarioGenerator } from 'dualrun';
import { BUSINESS_TIME_ZONE, REGIONS, TIERS, shop } from './domain.ts';

const MONEY_SCALE = 2;

export interface ShopGenerateOptions {
  out: string;
  orders: number;
  customers: number;
  seed: string;
  /** Share of orders arriving 40 min – 5 h after they were placed (default 0.02). */
  lateRate?: number;
  /** Share of events delivered twice or more (default 0.01). */
  duplicateRate?: number;
  /** Share of orders after which the customer moves region (default 0.01). */
  moveRate?: number;
  /** Share of orders cancelled (default 0.05); a fifth of that share is hard-deleted instead. */
  cancelRate?: number;
  days?: number;
  startDate?: string;
  onProgress?: (done: number, total: number) => void;
}

type File = 'customers.csv' | 'products.csv' | 'fx_rates.csv' | 'orders.csv' | 'order_lines.csv';

const CATALOGUE = [
  ['coffee', 'Coffee beans', 1800], ['coffee', 'Espresso blend', 2250], ['tea', 'Green tea', 950], ['tea', 'Tea sampler', 1400],
  ['equipment', 'Grinder', 8900], ['equipment', 'Espresso machine', 32000], ['accessories', 'Mug', 850], ['accessories', 'Filter papers, 100', 399],
] as const;
const CURRENCY_FACTORS = { EUR: 1, SEK: 11.5, USD: 1.08 } as const;
type Currency = keyof typeof CURRENCY_FACTORS;
const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export async function generateScenario(options: ShopGenerateOptions): Promise<{ events: number; rows: Record<string, number> }> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (rate: number): boolean => random() < rate;
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const { orders, customers } = options;
  const days = options.days ?? 3;
  const startDate = options.startDate ?? '2024-06-03';
  const [lateRate, duplicateRate, moveRate, cancelRate] = [options.lateRate ?? 0.02, options.duplicateRate ?? 0.01, options.moveRate ?? 0.01, options.cancelRate ?? 0.05];
  const dates = Array.from({ length: days }, (_, index) => nextDate(startDate, index));
  const start = dayBounds(dates[0]!, BUSINESS_TIME_ZONE).start.getTime();
  const end = dayBounds(dates[dates.length - 1]!, BUSINESS_TIME_ZONE).end.getTime();
  const setup = start - 24 * 60 * MINUTE;

  const files = await openScenarioFiles(shop, options.out);
  const writers = files as unknown as Record<File, { row(fields: (string | number)[]): Promise<void> }>;
  let events = 0;
  /** Writes an event row, and now and then a redelivery of it a little later. */
  const emit = async (file: File, fields: (string | number)[], arrival: number): Promise<void> => {
    events += 1;
    await writers[file].row(fields);
    if (chance(duplicateRate)) {
      const again = [...fields];
      again[2] = iso(arrival + between(1, 30) * MINUTE);
      events += 1;
      await writers[file].row(again);
    }
  };

  const regions: string[] = [];
  const names: string[] = [];
  const tiers: string[] = [];
  for (let index = 0; index < customers; index += 1) {
    regions.push(pick(REGIONS));
    tiers.push(pick(TIERS));
    names.push(`Customer ${index + 1}`);
    await emit('customers.csv', [`c${index + 1}`, iso(setup), iso(setup), 'CustomerUpserted', `C${index + 1}`, names[index]!, regions[index]!, tiers[index]!], setup);
  }
  for (const [index, [category, name, cents]] of CATALOGUE.entries()) {
    await emit('products.csv', [`p${index + 1}`, iso(setup), iso(setup), 'ProductUpserted', `P${index + 1}`, name, category, fromUnits(BigInt(cents), MONEY_SCALE), 'EUR'], setup);
  }
  const rates = { SEK: 0.087, USD: 0.92 };
  for (const date of [...dates, nextDate(startDate, days)]) {
    for (const currency of ['SEK', 'USD'] as const) {
      rates[currency] = Math.round(rates[currency] * (1 + (random() - 0.5) * 0.02) * 1e8) / 1e8;
      await emit('fx_rates.csv', [`fx-${currency}-${date}`, iso(setup), iso(setup), 'FxRateSet', currency, date, rates[currency].toFixed(8)], setup);
    }
  }

  const moves: number[] = new Array<number>(customers).fill(0);
  for (let index = 0; index < orders; index += 1) {
    const orderId = `O${index + 1}`;
    const customer = between(0, customers - 1);
    const placed = start + Math.floor(((index + random()) * (end - start)) / orders);
    const arrival = placed + (chance(lateRate) ? between(40, 300) * MINUTE : between(1, 120) * 1000);
    const currency = pick(['EUR', 'EUR', 'SEK', 'USD'] as const satisfies Currency[]);
    await emit('orders.csv', [`o${index + 1}`, iso(placed), iso(arrival), 'OrderPlaced', orderId, `C${customer + 1}`, currency, ''], arrival);
    const lineCount = between(1, 3);
    for (let line = 1; line <= lineCount; line += 1) {
      const product = between(0, CATALOGUE.length - 1);
      const cents = Math.round(CATALOGUE[product]![2] * CURRENCY_FACTORS[currency]);
      await writers['order_lines.csv'].row([orderId, line, `P${product + 1}`, between(1, 5), fromUnits(BigInt(cents), MONEY_SCALE), pick(['0', '0', '0', '5', '10', '12.5'])]);
    }
    // Later changes arrive after the order itself, each a little after it happened.
    let clock = placed;
    let known = arrival;
    const change = async (suffix: string, type: string, status: string, afterMinutes: number): Promise<void> => {
      clock += afterMinutes * MINUTE;
      known = Math.max(clock + between(1, 120) * 1000, known + 1000);
      await emit('orders.csv', [`o${index + 1}-${suffix}`, iso(clock), iso(known), type, orderId, '', '', status], known);
    };
    if (chance(0.8)) await change('paid', 'OrderStatusChanged', 'paid', between(5, 60));
    if (chance(cancelRate)) {
      if (chance(0.2)) await change('deleted', 'OrderDeleted', '', between(30, 24 * 60));
      else await change('cancelled', 'OrderStatusChanged', 'cancelled', between(30, 24 * 60));
    } else if (chance(0.6)) await change('shipped', 'OrderStatusChanged', 'shipped', between(60, 24 * 60));
    if (chance(moveRate)) {
      moves[customer]! += 1;
      regions[customer] = pick(REGIONS.filter((region) => region !== regions[customer]));
      const moved = placed + between(5, 12 * 60) * MINUTE;
      await emit('customers.csv', [`c${customer + 1}-m${moves[customer]}`, iso(moved), iso(moved + 1000), 'CustomerUpserted', `C${customer + 1}`, names[customer]!, regions[customer]!, tiers[customer]!], moved + 1000);
    }
    if ((index + 1) % 10_000 === 0 || index + 1 === orders) options.onProgress?.(index + 1, orders);
  }

  const rows = await files.close();
  const rateText = `late ${lateRate}, duplicates ${duplicateRate}, moves ${moveRate}, cancellations ${cancelRate}`;
  await writeScenarioInfo(options.out, {
    businessDates: dates,
    cutoffTime: '02:00',
    readme: `Generated by dualrun generate (seed ${JSON.stringify(options.seed)}): ${orders} orders by ${customers} customers over ${days} days from ${startDate} (${rateText}); its expected differences are not worked out (expected-differences.json is {}).`,
  });
  return { events, rows };
}

/** The shop's generator as `dualrun generate` runs it: its knobs are the flags. */
export const generateShopScenario: ScenarioGenerator = {
  description: 'orders (1-3 lines each; about 0.8 payments and 0.6 shipments per order) by customers, a product catalogue and daily FX rates, over Stockholm business days',
  options: {
    orders: { description: 'orders to place', kind: 'count' },
    customers: { description: 'customers (each starts in a random region and tier)', kind: 'count' },
    'late-rate': { description: 'share of orders arriving 40 min - 5 h after they were placed', kind: 'rate', default: 0.02 },
    'duplicate-rate': { description: 'share of events delivered twice', kind: 'rate', default: 0.01 },
    'move-rate': { description: 'share of orders after which the customer moves region', kind: 'rate', default: 0.01 },
    'cancel-rate': { description: 'share of orders cancelled; a fifth of those are hard-deleted instead', kind: 'rate', default: 0.05 },
    days: { description: 'business days, Europe/Stockholm', kind: 'count', default: 3 },
    'start-date': { description: 'first business day', kind: 'date', default: '2024-06-03' },
  },
  run: ({ out, seed, values, onProgress }) =>
    generateScenario({
      out,
      seed,
      orders: values.orders as number,
      customers: values.customers as number,
      lateRate: values['late-rate'] as number,
      duplicateRate: values['duplicate-rate'] as number,
      moveRate: values['move-rate'] as number,
      cancelRate: values['cancel-rate'] as number,
      days: values.days as number,
      startDate: values['start-date'] as string,
      ...(onProgress ? { onProgress } : {}),
    }),
};
