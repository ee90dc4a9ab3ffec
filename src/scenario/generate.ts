/**
 * A synthetic scenario of any size, in the fixtures' format: customers, a product catalogue, daily FX
 * rates, and orders spread over business days with status changes, cancellations, hard deletes,
 * customers moving region, late arrivals and redeliveries at the requested rates. Deterministic — one
 * seeded PRNG drawn in a fixed order, no clock, no Map iteration — so the same options give
 * byte-identical files. Orders are made in event-time order and written straight out through buffered
 * write streams that respect backpressure: memory grows with the customers, never with the orders.
 * File order is free (replay sorts by arrival), so an order's later status changes are written with it.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REGIONS, TIERS } from '../domain/entities.ts';
import { MONEY_SCALE, fromUnits } from '../domain/money.ts';
import { dayBounds, nextDate } from '../domain/time.ts';
import { SCENARIO_FILES, type ScenarioFile } from './files.ts';

export interface GenerateOptions {
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

export interface GenerateSummary {
  events: number;
  rows: Record<ScenarioFile, number>;
}

/** sfc32 seeded from the seed string by cyrb128: fast, small state, good enough for test data. */
export function seededRandom(seed: string): () => number {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < seed.length; i += 1) {
    const k = seed.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  let [a, b, c, d] = [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Buffers rows and writes in ~64 KiB chunks, waiting for 'drain' when the stream is full. */
class CsvWriter {
  private buffer: string[] = [];
  private size = 0;
  rows = 0;
  private readonly stream: WriteStream;
  constructor(path: string, header: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
    this.buffer.push(`${header}\n`);
  }
  async row(fields: (string | number)[]): Promise<void> {
    const line = `${fields.map(csvField).join(',')}\n`;
    this.buffer.push(line);
    this.size += line.length;
    this.rows += 1;
    if (this.size >= 65_536) await this.flush();
  }
  async flush(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const CATALOGUE = [
  ['coffee', 'Coffee beans', 1800], ['coffee', 'Espresso blend', 2250], ['tea', 'Green tea', 950], ['tea', 'Tea sampler', 1400],
  ['equipment', 'Grinder', 8900], ['equipment', 'Espresso machine', 32000], ['accessories', 'Mug', 850], ['accessories', 'Filter papers, 100', 399],
] as const;
const CURRENCY_FACTORS = { EUR: 1, SEK: 11.5, USD: 1.08 } as const;
type Currency = keyof typeof CURRENCY_FACTORS;
const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export async function generateScenario(options: GenerateOptions): Promise<GenerateSummary> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (rate: number): boolean => random() < rate;
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const { orders, customers } = options;
  const days = options.days ?? 3;
  const startDate = options.startDate ?? '2024-06-03';
  const [lateRate, duplicateRate, moveRate, cancelRate] = [options.lateRate ?? 0.02, options.duplicateRate ?? 0.01, options.moveRate ?? 0.01, options.cancelRate ?? 0.05];
  const dates = Array.from({ length: days }, (_, index) => nextDate(startDate, index));
  const start = dayBounds(dates[0]!).start.getTime();
  const end = dayBounds(dates[dates.length - 1]!).end.getTime();
  const setup = start - 24 * 60 * MINUTE;

  await mkdir(options.out, { recursive: true });
  const writers = Object.fromEntries(
    (Object.keys(SCENARIO_FILES) as ScenarioFile[]).map((file) => [file, new CsvWriter(join(options.out, file), Object.keys(SCENARIO_FILES[file]).join(','))]),
  ) as Record<ScenarioFile, CsvWriter>;
  let events = 0;
  /** Writes an event row, and now and then a redelivery of it a little later. */
  const emit = async (file: ScenarioFile, fields: (string | number)[], arrival: number): Promise<void> => {
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
    await emit('products.csv', [`p${index + 1}`, iso(setup), iso(setup), `P${index + 1}`, name, category, fromUnits(BigInt(cents), MONEY_SCALE), 'EUR'], setup);
  }
  const rates = { SEK: 0.087, USD: 0.92 };
  for (const date of [...dates, nextDate(startDate, days)]) {
    for (const currency of ['SEK', 'USD'] as const) {
      rates[currency] = Math.round(rates[currency] * (1 + (random() - 0.5) * 0.02) * 1e8) / 1e8;
      await emit('fx_rates.csv', [`fx-${currency}-${date}`, iso(setup), iso(setup), currency, date, rates[currency].toFixed(8)], setup);
    }
  }

  const moves: number[] = new Array<number>(customers).fill(0);
  for (let index = 0; index < orders; index += 1) {
    const orderId = `O${index + 1}`;
    const customer = between(0, customers - 1);
    const placed = start + Math.floor(((index + random()) * (end - start)) / orders);
    const arrival = placed + (chance(lateRate) ? between(40, 300) * MINUTE : between(1, 120) * 1000);
    const currency = pick(['EUR', 'EUR', 'SEK', 'USD'] as const satisfies Currency[]);
    await emit('orders.csv', [`o${index + 1}`, iso(placed), iso(arrival), 'OrderPlaced', orderId, `C${customer + 1}`, currency, 'placed'], arrival);
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

  for (const writer of Object.values(writers)) await writer.close();
  await writeFile(join(options.out, 'scenario.json'), `${JSON.stringify({ businessDates: dates, cutoffTime: '02:00' })}\n`);
  await writeFile(join(options.out, 'expected-differences.json'), '{}\n');
  const rateText = `late ${lateRate}, duplicates ${duplicateRate}, moves ${moveRate}, cancellations ${cancelRate}`;
  await writeFile(
    join(options.out, 'README.md'),
    `Generated by dualrun generate (seed ${JSON.stringify(options.seed)}): ${orders} orders by ${customers} customers over ${days} days from ${startDate} (${rateText}); its expected differences are not worked out (expected-differences.json is {}).\n`,
  );
  const rows = Object.fromEntries(Object.entries(writers).map(([file, writer]) => [file, writer.rows])) as Record<ScenarioFile, number>;
  return { events, rows };
}
