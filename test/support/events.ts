/**
 * Builds shop events and their Kafka messages in the pinned input format (topic per entity, key =
 * keyOf, value = envelope JSON, tombstones for deletes, Kafka timestamp = event time, HEADERS) for
 * tests that need input before/without the scenario replay.
 */
import { randomUUID } from 'node:crypto';
import { DELETE_EVENTS, HEADERS, SCHEMA_VERSION, entityOf, keyOf, type Entity, type EventType, type PayloadOf, type ShopEvent } from '../../src/domain/events.ts';

export function event<T extends EventType>(type: T, payload: PayloadOf<T>, eventTime: string, eventId: string = randomUUID()): ShopEvent {
  return { eventId, type, eventTime: new Date(eventTime).toISOString(), schemaVersion: SCHEMA_VERSION, payload } as ShopEvent;
}

export interface TestMessage {
  entity: Entity;
  key: Buffer;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, string>;
}

export function messageOf(shopEvent: ShopEvent, arrivalTime: string): TestMessage {
  return {
    entity: entityOf(shopEvent.type),
    key: Buffer.from(keyOf(shopEvent)),
    value: DELETE_EVENTS.has(shopEvent.type) ? null : Buffer.from(JSON.stringify(shopEvent)),
    timestamp: String(Date.parse(shopEvent.eventTime)),
    headers: {
      [HEADERS.eventId]: shopEvent.eventId,
      [HEADERS.type]: shopEvent.type,
      [HEADERS.eventTime]: shopEvent.eventTime,
      [HEADERS.arrivalTime]: new Date(arrivalTime).toISOString(),
    },
  };
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
