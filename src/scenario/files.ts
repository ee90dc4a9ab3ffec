/**
 * The five CSV files of a scenario (fixtures/README.md): their columns and types, the rules per event
 * type (which fields it needs, which must stay empty), and how rows become event envelopes — an
 * OrderPlaced gathers its lines from order_lines.csv. Every problem is collected with its place.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ORDER_STATUSES, REGIONS, TIERS, type OrderLine } from '../domain/entities.ts';
import { SCHEMA_VERSION, type ShopEvent } from '../domain/events.ts';
import { InputError } from '../errors.ts';
import { field, optional, problemAt, readCsv, type Columns, type CsvRecord, type Position } from './csv.ts';

const eventColumns = { event_id: field.id, event_time: field.instant, arrival_time: field.instant } as const;

export const SCENARIO_FILES = {
  'customers.csv': { ...eventColumns, type: field.oneOf(['CustomerUpserted', 'CustomerDeleted']), customer_id: field.id, name: optional(field.text), region: optional(field.oneOf(REGIONS)), tier: optional(field.oneOf(TIERS)) },
  'products.csv': { ...eventColumns, product_id: field.id, name: field.text, category: field.text, price: field.decimal(2), currency: field.currency },
  'fx_rates.csv': { ...eventColumns, currency: field.currency, rate_date: field.date, rate_to_eur: field.decimal(8) },
  'orders.csv': { ...eventColumns, type: field.oneOf(['OrderPlaced', 'OrderStatusChanged', 'OrderDeleted']), order_id: field.id, customer_id: optional(field.id), currency: optional(field.currency), status: optional(field.oneOf(ORDER_STATUSES)) },
  'order_lines.csv': { order_id: field.id, line_no: field.positiveInt, product_id: field.id, quantity: field.positiveInt, unit_price: field.decimal(2), discount_pct: field.decimal(2, 100) },
} as const satisfies Record<string, Columns>;
export type ScenarioFile = keyof typeof SCENARIO_FILES;
export const EVENT_FILES = ['customers.csv', 'products.csv', 'fx_rates.csv', 'orders.csv'] as const satisfies ScenarioFile[];

/** A validated event with where it came from, before ordering by arrival. */
export interface EventRow {
  event: ShopEvent;
  arrivalTime: string;
  file: string;
  position: Position;
}

type Records<F extends ScenarioFile> = CsvRecord<(typeof SCENARIO_FILES)[F]>[];

/** Reads all five files; returns the events in file order (customers, products, fx rates, orders). */
export async function readEventRows(dir: string, shownPath: (name: string) => string, problems: InputError[]): Promise<EventRow[]> {
  const rejected: Partial<Record<ScenarioFile, Record<string, string>[]>> = {};
  const read = async <F extends ScenarioFile>(name: F): Promise<Records<F>> => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      problems.push(new InputError(shownPath(name), undefined, undefined, `expected the file ${name}, found none`, { hint: `create it with the header ${Object.keys(SCENARIO_FILES[name]).join(',')} (a header alone means no rows)` }));
      return [];
    }
    const result = readCsv(shownPath(name), await readFile(path, 'utf8'), SCENARIO_FILES[name]);
    problems.push(...result.problems);
    rejected[name] = result.rejected;
    return result.records;
  };
  const customers = await read('customers.csv');
  const products = await read('products.csv');
  const fxRates = await read('fx_rates.csv');
  const orders = await read('orders.csv');
  const lines = await read('order_lines.csv');
  const rows: EventRow[] = [];
  const file = shownPath;

  const base = <F extends 'customers.csv' | 'products.csv' | 'fx_rates.csv' | 'orders.csv'>(name: F, record: Records<F>[number]) => {
    const { event_id, event_time, arrival_time } = record.values as { event_id: string; event_time: string; arrival_time: string };
    if (arrival_time < event_time) {
      problems.push(problemAt(file(name), record.at('arrival_time'), 'arrival_time', `a time at or after event_time ${event_time} (nothing arrives before it happens)`, arrival_time));
      return undefined;
    }
    return { eventId: event_id, eventTime: event_time, schemaVersion: SCHEMA_VERSION, arrivalTime: arrival_time, position: { line: record.line, column: 1 } };
  };
  /** Checks the fields a type needs are there and the ones it ignores are empty; false when not. */
  const shape = (name: ScenarioFile, record: CsvRecord<Columns>, type: string, needed: string[], empty: string[]): boolean => {
    let ok = true;
    for (const column of needed) {
      if (record.values[column] === undefined) {
        problems.push(problemAt(file(name), record.at(column), column, `a value (${type} needs ${needed.join(', ')})`, 'an empty field'));
        ok = false;
      }
    }
    for (const column of empty) {
      if (record.values[column] !== undefined) {
        problems.push(problemAt(file(name), record.at(column), column, `an empty field (${type} carries no ${column})`, JSON.stringify(record.values[column])));
        ok = false;
      }
    }
    return ok;
  };
  const push = (name: ScenarioFile, head: NonNullable<ReturnType<typeof base>>, event: Pick<ShopEvent, 'type' | 'payload'>) => {
    const { arrivalTime, position, ...envelope } = head;
    rows.push({ event: { ...envelope, ...event } as ShopEvent, arrivalTime, file: file(name), position });
  };

  for (const record of customers) {
    const head = base('customers.csv', record);
    const v = record.values;
    if (v.type === 'CustomerUpserted') {
      if (shape('customers.csv', record, v.type, ['name', 'region', 'tier'], []) && head) {
        push('customers.csv', head, { type: v.type, payload: { customerId: v.customer_id, name: v.name!, region: v.region!, tier: v.tier! } });
      }
    } else if (shape('customers.csv', record, v.type, [], ['name', 'region', 'tier']) && head) {
      push('customers.csv', head, { type: v.type, payload: { customerId: v.customer_id } });
    }
  }
  for (const record of products) {
    const head = base('products.csv', record);
    const v = record.values;
    if (head) push('products.csv', head, { type: 'ProductUpserted', payload: { productId: v.product_id, name: v.name, category: v.category, price: v.price, currency: v.currency } });
  }
  for (const record of fxRates) {
    const head = base('fx_rates.csv', record);
    const v = record.values;
    if (head) push('fx_rates.csv', head, { type: 'FxRateSet', payload: { currency: v.currency, rateDate: v.rate_date, rateToEur: v.rate_to_eur } });
  }

  const linesByOrder = groupLines(lines, file('order_lines.csv'), problems);
  const placedBy = new Map<string, { eventId: string; line: number }>();
  for (const record of orders) {
    const head = base('orders.csv', record);
    const v = record.values;
    if (v.type === 'OrderPlaced') {
      const ok = shape('orders.csv', record, v.type, ['customer_id', 'currency'], []);
      if (v.status !== undefined && v.status !== 'placed') {
        problems.push(problemAt(file('orders.csv'), record.at('status'), 'status', 'placed or an empty field (an order starts as placed; later statuses are OrderStatusChanged rows)', JSON.stringify(v.status)));
        continue;
      }
      const earlier = placedBy.get(v.order_id);
      if (earlier && earlier.eventId !== v.event_id) {
        problems.push(problemAt(file('orders.csv'), record.at('event_id'), 'event_id', `the event_id ${earlier.eventId} of the OrderPlaced of ${v.order_id} at line ${earlier.line} (a redelivery repeats its event_id; an order is placed once)`, JSON.stringify(v.event_id)));
        continue;
      }
      placedBy.set(v.order_id, { eventId: v.event_id, line: record.line });
      const orderLines = linesByOrder.get(v.order_id);
      if (!orderLines) {
        // Its lines may all be rows already reported as bad: one problem is enough.
        if (rejected['order_lines.csv']?.some((line) => line.order_id === v.order_id)) continue;
        problems.push(problemAt(file('orders.csv'), record.at('order_id'), 'order_id', `at least one line for order ${v.order_id} in order_lines.csv`, 'none'));
        continue;
      }
      if (ok && head) {
        push('orders.csv', head, { type: v.type, payload: { orderId: v.order_id, customerId: v.customer_id!, currency: v.currency!, placedAt: head.eventTime, lines: orderLines.lines } });
      }
    } else if (v.type === 'OrderStatusChanged') {
      if (shape('orders.csv', record, v.type, ['status'], ['customer_id', 'currency']) && head) push('orders.csv', head, { type: v.type, payload: { orderId: v.order_id, status: v.status! } });
    } else if (shape('orders.csv', record, v.type, [], ['customer_id', 'currency', 'status']) && head) {
      push('orders.csv', head, { type: v.type, payload: { orderId: v.order_id } });
    }
  }
  for (const [orderId, { at }] of linesByOrder) {
    const badOrderRow = rejected['orders.csv']?.some((order) => order.order_id === orderId);
    if (!placedBy.has(orderId) && !badOrderRow) problems.push(problemAt(file('order_lines.csv'), at, 'order_id', 'the order_id of an OrderPlaced row in orders.csv', JSON.stringify(orderId)));
  }
  return rows;
}

function groupLines(records: Records<'order_lines.csv'>, shown: string, problems: InputError[]): Map<string, { lines: OrderLine[]; at: Position }> {
  const byOrder = new Map<string, { lines: OrderLine[]; at: Position }>();
  for (const record of records) {
    const v = record.values;
    let entry = byOrder.get(v.order_id);
    if (!entry) byOrder.set(v.order_id, (entry = { lines: [], at: record.at('order_id') }));
    if (entry.lines.some((line) => line.lineNo === v.line_no)) {
      problems.push(problemAt(shown, record.at('line_no'), 'line_no', `a line_no not yet used by order ${v.order_id}`, String(v.line_no)));
      continue;
    }
    entry.lines.push({ lineNo: v.line_no, productId: v.product_id, quantity: v.quantity, unitPrice: v.unit_price, discountPct: v.discount_pct });
  }
  for (const entry of byOrder.values()) entry.lines.sort((a, b) => a.lineNo - b.lineNo);
  return byOrder;
}
