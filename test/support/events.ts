/**
 * Builds shop events and their Kafka messages in the pinned input format (topic per entity, key =
 * the entity key, value = envelope JSON, tombstones for deletes, Kafka timestamp = event time, HEADERS)
 * for tests that need input before/without the scenario replay.
 */
import { randomUUID } from 'node:crypto';
import { shop } from '../../src/domains/shop/index.ts';
import { toMessage } from '../../src/model/codec.ts';
import type { DomainModel } from '../../src/model/domain.ts';
import { SCHEMA_VERSION, type Delivery, type DomainEvent } from '../../src/model/events.ts';

/** The shop's event types and their payloads, for building test events without typos. */
export interface ShopPayloads {
  CustomerUpserted: { customerId: string; name: string; region: string; tier: string };
  CustomerDeleted: { customerId: string };
  ProductUpserted: { productId: string; name: string; category: string; price: string; currency: string };
  FxRateSet: { currency: string; rateDate: string; rateToEur: string };
  OrderPlaced: { orderId: string; customerId: string; currency: string; placedAt: string; lines: { lineNo: number; productId: string; quantity: number; unitPrice: string; discountPct: string }[] };
  OrderStatusChanged: { orderId: string; status: string };
  OrderDeleted: { orderId: string };
}
export type EventType = keyof ShopPayloads;
export type ShopEvent = DomainEvent;

export function event<T extends EventType>(type: T, payload: ShopPayloads[T], eventTime: string, eventId: string = randomUUID()): ShopEvent {
  // Instants in their pinned form, as a consumer checks them (the payload's placedAt included).
  const pinned = 'placedAt' in payload ? { ...payload, placedAt: new Date(payload.placedAt).toISOString() } : payload;
  return { eventId, type, eventTime: new Date(eventTime).toISOString(), schemaVersion: SCHEMA_VERSION, payload: pinned };
}

export interface TestMessage {
  /** The entity's name (the shop's: customers, products, fxRates, orders). */
  entity: string;
  key: Buffer;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, string>;
}

export function messageOf(shopEvent: ShopEvent, arrivalTime: string): TestMessage {
  return deliveryMessage(shop, { event: shopEvent, arrivalTime: new Date(arrivalTime).toISOString() });
}

/** Any domain's delivery (a scenario's event as it arrives) as the test message replay would publish. */
export function deliveryMessage(domain: DomainModel, delivery: Delivery): TestMessage {
  const { entity, message } = toMessage(domain, delivery);
  return { entity: entity.name, key: Buffer.from(message.key), value: message.value === null ? null : Buffer.from(message.value), timestamp: message.timestamp, headers: message.headers };
}

/** The small hand-worked example the streaming tests check (expected outputs in the tests, worked out by hand). */
export function handWorkedExample(): { messages: TestMessage[] } {
  const placed = (id: string, customerId: string, currency: 'EUR' | 'SEK', placedAt: string, lines: [string, number, string, string][], eventId?: string) =>
    event(
      'OrderPlaced',
      { orderId: id, customerId, currency, placedAt, lines: lines.map(([productId, quantity, unitPrice, discountPct], index) => ({ lineNo: index + 1, productId, quantity, unitPrice, discountPct })) },
      placedAt,
      eventId,
    );
  const o1 = placed('o1', 'c1', 'SEK', '2024-10-27T10:00:00Z', [
    ['p1', 2, '100.00', '10'],
    ['p2', 1, '50.00', '0'],
  ]);
  const list: [ShopEvent, string][] = [
    [event('CustomerUpserted', { customerId: 'c1', name: 'Ann', region: 'north', tier: 'gold' }, '2024-10-01T00:00:00Z'), '2024-10-01T00:00:00Z'],
    [event('ProductUpserted', { productId: 'p1', name: 'Hammer', category: 'tools', price: '100.00', currency: 'SEK' }, '2024-10-01T00:00:00Z'), '2024-10-01T00:00:00Z'],
    [event('ProductUpserted', { productId: 'p2', name: 'Ball', category: 'toys', price: '50.00', currency: 'SEK' }, '2024-10-01T00:00:00Z'), '2024-10-01T00:00:00Z'],
    [event('FxRateSet', { currency: 'SEK', rateDate: '2024-10-27', rateToEur: '0.087' }, '2024-10-26T12:00:00Z'), '2024-10-26T12:00:00Z'],
    [o1, '2024-10-27T10:00:01Z'],
    [placed('o2', 'c1', 'EUR', '2024-10-27T22:30:00Z', [['p1', 1, '10.00', '0']]), '2024-10-27T22:30:01Z'],
    [o1, '2024-10-27T22:40:00Z'], // redelivery of o1: same event id
    [event('CustomerUpserted', { customerId: 'c1', name: 'Ann', region: 'south', tier: 'gold' }, '2024-10-27T23:00:00Z'), '2024-10-27T23:00:00Z'],
    [placed('o3', 'c1', 'EUR', '2024-10-28T00:10:00Z', [['p2', 3, '5.00', '0']]), '2024-10-28T00:10:01Z'],
    [event('OrderStatusChanged', { orderId: 'o2', status: 'cancelled' }, '2024-10-28T00:20:00Z'), '2024-10-28T00:20:01Z'],
    // Placed on 10-27 but arrives after o3 (event time ≥ 10-27 end 23:00Z + 30 min grace) arrived: late for the day windows.
    [placed('o4', 'c1', 'EUR', '2024-10-27T12:00:00Z', [['p1', 1, '7.00', '0']]), '2024-10-28T06:00:00Z'],
    [placed('o5', 'c9', 'EUR', '2024-10-28T07:00:00Z', [['p1', 1, '1.00', '0']]), '2024-10-28T07:00:01Z'],
    [event('OrderDeleted', { orderId: 'o5' }, '2024-10-28T07:30:00Z'), '2024-10-28T07:30:01Z'],
    [placed('o6', 'c1', 'EUR', '2024-10-28T08:00:00Z', [['p2', 1, '2.00', '0']]), '2024-10-28T08:00:01Z'],
    [event('OrderStatusChanged', { orderId: 'o6', status: 'cancelled' }, '2024-10-28T09:00:00Z'), '2024-10-28T09:00:01Z'],
  ];
  return { messages: list.map(([shopEvent, arrival]) => messageOf(shopEvent, arrival)) };
}
