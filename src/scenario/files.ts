/**
 * The five CSV files of a scenario (fixtures/README.md): their columns and types, the rules per event
 * type (which fields it needs, which must stay empty), and how rows become events — an OrderPlaced
 * gathers its lines from order_lines.csv, read first. Each good row becomes its event as it is parsed
 * (no intermediate rows kept), so a million-event scenario costs the events and little more.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ORDER_STATUSES, REGIONS, TIERS, type OrderLine } from '../domain/entities.ts';
import { SCHEMA_VERSION, type ShopEvent } from '../domain/events.ts';
import { InputError } from '../errors.ts';
import { field, optional, problemAt, readCsv, type Columns, type CsvRecord } from './csv.ts';
import type { ScenarioEvent } from './load.ts';

const eventColumns = { event_id: field.id, event_time: field.instant, arrival_time: field.instant } as const;

export const SCENARIO_FILES = {
  'customers.csv': { ...eventColumns, type: field.oneOf(['CustomerUpserted', 'CustomerDeleted']), customer_id: field.id, name: optional(field.text), region: optional(field.oneOf(REGIONS)), tier: optional(field.oneOf(TIERS)) },
  'products.csv': { ...eventColumns, product_id: field.id, name: field.text, category: field.text, price: field.decimal(2), currency: field.currency },
  'fx_rates.csv': { ...eventColumns, currency: field.currency, rate_date: field.date, rate_to_eur: field.decimal(8) },
  'orders.csv': { ...eventColumns, type: field.oneOf(['OrderPlaced', 'OrderStatusChanged', 'OrderDeleted']), order_id: field.id, customer_id: optional(field.id), currency: optional(field.currency), status: optional(field.oneOf(ORDER_STATUSES)) },
  'order_lines.csv': { order_id: field.id, line_no: field.positiveInt, product_id: field.id, quantity: field.positiveInt, unit_price: field.decimal(2), discount_pct: field.decimal(2, 100) },
} as const satisfies Record<string, Columns>;
export type ScenarioFile = keyof typeof SCENARIO_FILES;
type EventFile = Exclude<ScenarioFile, 'order_lines.csv'>;
type Row<F extends ScenarioFile> = CsvRecord<(typeof SCENARIO_FILES)[F]>;

/**
 * Reads all five files; returns the events in file order (customers, products, fx rates, orders), not
 * yet ordered by arrival nor marked as redeliveries. `shownPath` turns a file name into the path for messages.
 */
export async function readScenarioEvents(dir: string, shownPath: (name: string) => string, problems: InputError[]): Promise<ScenarioEvent[]> {
  const rejected: Partial<Record<ScenarioFile, Record<string, string>[]>> = {};
  /** Files that could not be read at all (absent, bad header or syntax): checks against them would only echo that. */
  const unreadable = new Set<ScenarioFile>();
  const read = async <F extends ScenarioFile>(name: F, consume: (record: Row<F>) => void): Promise<void> => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      unreadable.add(name);
      problems.push(new InputError(shownPath(name), undefined, undefined, `expected the file ${name}, found none`, { hint: `create it with the header ${Object.keys(SCENARIO_FILES[name]).join(',')} (a header alone means no rows)` }));
      return;
    }
    const result = readCsv(shownPath(name), await readFile(path, 'utf8'), SCENARIO_FILES[name], consume);
    problems.push(...result.problems);
    rejected[name] = result.rejected;
    if (!result.complete) unreadable.add(name);
  };
  const events: ScenarioEvent[] = [];
  const problem = (name: ScenarioFile, record: CsvRecord<Columns>, column: string, expected: string, found: string): void => {
    problems.push(problemAt(shownPath(name), record.at(column), column, expected, found));
  };

  /** Envelope fields of an event row; undefined (and a problem) when it arrives before it happened. */
  const head = (name: EventFile, record: Row<EventFile>) => {
    const { event_id, event_time, arrival_time } = record.values;
    if (arrival_time < event_time) {
      problem(name, record, 'arrival_time', `a time at or after event_time ${event_time} (nothing arrives before it happens)`, arrival_time);
      return undefined;
    }
    return { eventId: event_id, eventTime: event_time, schemaVersion: SCHEMA_VERSION, arrivalTime: arrival_time };
  };
  /** True when the fields `type` needs are there and the ones it does not carry are empty. */
  const shaped = (name: ScenarioFile, record: CsvRecord<Columns>, type: string, needed: string[], empty: string[]): boolean => {
    let ok = true;
    for (const column of needed) {
      if (record.values[column] !== undefined) continue;
      problem(name, record, column, `a value (${type} needs ${needed.join(', ')})`, 'an empty field');
      ok = false;
    }
    for (const column of empty) {
      if (record.values[column] === undefined) continue;
      problem(name, record, column, `an empty field (${type} carries no ${column})`, JSON.stringify(record.values[column]));
      ok = false;
    }
    return ok;
  };
  const push = (name: EventFile, record: Row<EventFile>, envelope: NonNullable<ReturnType<typeof head>>, event: Pick<ShopEvent, 'type' | 'payload'>): ScenarioEvent => {
    const { arrivalTime, ...rest } = envelope;
    const scenarioEvent = { event: { ...rest, ...event } as ShopEvent, arrivalTime, redelivery: false, source: { file: name, line: record.line } };
    events.push(scenarioEvent);
    return scenarioEvent;
  };

  const lines = new Map<string, OrderLine[]>();
  const firstLineOf = new Map<string, number>();
  await read('order_lines.csv', (record) => {
    const v = record.values;
    let orderLines = lines.get(v.order_id);
    if (!orderLines) {
      lines.set(v.order_id, (orderLines = []));
      firstLineOf.set(v.order_id, record.line);
    }
    if (orderLines.some((line) => line.lineNo === v.line_no)) {
      problem('order_lines.csv', record, 'line_no', `a line_no not yet used by order ${v.order_id}`, String(v.line_no));
      return;
    }
    orderLines.push({ lineNo: v.line_no, productId: v.product_id, quantity: v.quantity, unitPrice: v.unit_price, discountPct: v.discount_pct });
  });
  for (const orderLines of lines.values()) orderLines.sort((a, b) => a.lineNo - b.lineNo);

  await read('customers.csv', (record) => {
    const envelope = head('customers.csv', record);
    const v = record.values;
    if (v.type === 'CustomerUpserted') {
      if (shaped('customers.csv', record, v.type, ['name', 'region', 'tier'], []) && envelope) {
        push('customers.csv', record, envelope, { type: v.type, payload: { customerId: v.customer_id, name: v.name!, region: v.region!, tier: v.tier! } });
      }
    } else if (shaped('customers.csv', record, v.type, [], ['name', 'region', 'tier']) && envelope) {
      push('customers.csv', record, envelope, { type: v.type, payload: { customerId: v.customer_id } });
    }
  });
  await read('products.csv', (record) => {
    const envelope = head('products.csv', record);
    const v = record.values;
    if (envelope) push('products.csv', record, envelope, { type: 'ProductUpserted', payload: { productId: v.product_id, name: v.name, category: v.category, price: v.price, currency: v.currency } });
  });
  await read('fx_rates.csv', (record) => {
    const envelope = head('fx_rates.csv', record);
    const v = record.values;
    if (envelope) push('fx_rates.csv', record, envelope, { type: 'FxRateSet', payload: { currency: v.currency, rateDate: v.rate_date, rateToEur: v.rate_to_eur } });
  });

  const placed = new Map<string, ScenarioEvent>();
  /** Orders whose OrderPlaced row is reported already: their lines are not orphans. */
  const failed = new Set<string>();
  await read('orders.csv', (record) => {
    const envelope = head('orders.csv', record);
    const v = record.values;
    if (v.type === 'OrderPlaced') {
      failed.add(v.order_id);
      const ok = shaped('orders.csv', record, v.type, ['customer_id', 'currency'], []);
      if (v.status !== undefined && v.status !== 'placed') {
        problem('orders.csv', record, 'status', 'placed or an empty field (an order starts as placed; later statuses are OrderStatusChanged rows)', JSON.stringify(v.status));
        return;
      }
      const earlier = placed.get(v.order_id);
      if (earlier && earlier.event.eventId !== v.event_id) {
        problem('orders.csv', record, 'event_id', `the event_id ${earlier.event.eventId} of the OrderPlaced of ${v.order_id} at line ${earlier.source.line} (a redelivery repeats its event_id; an order is placed once)`, JSON.stringify(v.event_id));
        return;
      }
      const orderLines = lines.get(v.order_id);
      if (!orderLines) {
        // Its lines may all be rows already reported as bad: one problem is enough.
        if (!unreadable.has('order_lines.csv') && !rejected['order_lines.csv']?.some((line) => line.order_id === v.order_id)) {
          problem('orders.csv', record, 'order_id', `at least one line for order ${v.order_id} in order_lines.csv`, 'none');
        }
        return;
      }
      if (ok && envelope) {
        const event = push('orders.csv', record, envelope, { type: v.type, payload: { orderId: v.order_id, customerId: v.customer_id!, currency: v.currency!, placedAt: envelope.eventTime, lines: orderLines } });
        if (!earlier) placed.set(v.order_id, event);
        failed.delete(v.order_id);
      }
    } else if (v.type === 'OrderStatusChanged') {
      if (shaped('orders.csv', record, v.type, ['status'], ['customer_id', 'currency']) && envelope) push('orders.csv', record, envelope, { type: v.type, payload: { orderId: v.order_id, status: v.status! } });
    } else if (shaped('orders.csv', record, v.type, [], ['customer_id', 'currency', 'status']) && envelope) {
      push('orders.csv', record, envelope, { type: v.type, payload: { orderId: v.order_id } });
    }
  });

  const badOrders = new Set((rejected['orders.csv'] ?? []).map((order) => order.order_id));
  for (const [orderId, line] of firstLineOf) {
    if (!placed.has(orderId) && !badOrders.has(orderId) && !failed.has(orderId) && !unreadable.has('orders.csv')) {
      problems.push(problemAt(shownPath('order_lines.csv'), { line, column: 1 }, 'order_id', 'the order_id of an OrderPlaced row in orders.csv', JSON.stringify(orderId)));
    }
  }
  return events;
}
