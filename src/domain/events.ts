/**
 * The event contract both sides are fed from: one topic per entity, keyed by entity id, JSON values
 * in a versioned envelope. A hard delete is a tombstone (null value) whose headers still carry the
 * event id, type and event time, and whose Kafka timestamp is the event time, like every message's.
 */
import { z } from 'zod';
import { CURRENCIES, ORDER_STATUSES, customerSchema, dateSchema, decimalSchema, fxRateSchema, idSchema, instantSchema, orderSchema, productSchema } from './entities.ts';

export const SCHEMA_VERSION = 1;

/** Entity → topic suffix. The full name is `${prefix}.${suffix}` (prefix default "shop"). */
export const ENTITY_TOPICS = {
  customers: 'customers',
  products: 'products',
  fxRates: 'fx-rates',
  orders: 'orders',
} as const;
export type Entity = keyof typeof ENTITY_TOPICS;

export function topicName(entity: Entity, prefix = 'shop'): string {
  return `${prefix}.${ENTITY_TOPICS[entity]}`;
}

/** Every event type, its entity (so its topic) and its payload schema. */
export const EVENT_TYPES = {
  CustomerUpserted: { entity: 'customers', payload: customerSchema },
  CustomerDeleted: { entity: 'customers', payload: z.object({ customerId: idSchema }) },
  ProductUpserted: { entity: 'products', payload: productSchema },
  FxRateSet: { entity: 'fxRates', payload: fxRateSchema },
  OrderPlaced: { entity: 'orders', payload: orderSchema },
  OrderStatusChanged: { entity: 'orders', payload: z.object({ orderId: idSchema, status: z.enum(ORDER_STATUSES) }) },
  OrderDeleted: { entity: 'orders', payload: z.object({ orderId: idSchema }) },
} as const satisfies Record<string, { entity: Entity; payload: z.ZodType }>;
export type EventType = keyof typeof EVENT_TYPES;
export type PayloadOf<T extends EventType> = z.infer<(typeof EVENT_TYPES)[T]['payload']>;

/** Event types that delete their entity: published as tombstones. */
export const DELETE_EVENTS: ReadonlySet<EventType> = new Set(['CustomerDeleted', 'OrderDeleted']);

export interface Envelope<T extends EventType = EventType> {
  eventId: string;
  type: T;
  /** When it happened in the business (ISO UTC). */
  eventTime: string;
  schemaVersion: number;
  payload: PayloadOf<T>;
}

export type ShopEvent = { [T in EventType]: Envelope<T> }[EventType];

const envelopeBase = z.object({
  eventId: z.string().min(1),
  type: z.enum(Object.keys(EVENT_TYPES) as [EventType, ...EventType[]]),
  eventTime: instantSchema,
  schemaVersion: z.literal(SCHEMA_VERSION),
  payload: z.unknown(),
});

/** Validates an envelope and its payload; returns the event or the first problem, as a sentence. */
export function parseEnvelope(value: unknown): { ok: true; event: ShopEvent } | { ok: false; reason: string } {
  const base = envelopeBase.safeParse(value);
  if (!base.success) return { ok: false, reason: describeIssue(base.error) };
  const payload = EVENT_TYPES[base.data.type].payload.safeParse(base.data.payload);
  if (!payload.success) return { ok: false, reason: describeIssue(payload.error, 'payload') };
  return { ok: true, event: { ...base.data, payload: payload.data } as ShopEvent };
}

function describeIssue(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? [])].filter((part) => part !== undefined).join('.');
  return `${path || 'envelope'}: ${issue?.message ?? 'invalid'}`;
}

/** The entity id an event is keyed by (for fx rates: "SEK:2024-10-27"). */
export function keyOf(event: ShopEvent): string {
  switch (event.type) {
    case 'CustomerUpserted':
    case 'CustomerDeleted':
      return event.payload.customerId;
    case 'ProductUpserted':
      return event.payload.productId;
    case 'FxRateSet':
      return `${event.payload.currency}:${event.payload.rateDate}`;
    case 'OrderPlaced':
    case 'OrderStatusChanged':
    case 'OrderDeleted':
      return event.payload.orderId;
  }
}

export function entityOf(type: EventType): Entity {
  return EVENT_TYPES[type].entity;
}

/** Headers every message carries, tombstones included (values are strings on the wire). */
export const HEADERS = { eventId: 'dualrun-event-id', type: 'dualrun-event-type', eventTime: 'dualrun-event-time', arrivalTime: 'dualrun-arrival-time' } as const;

export const currencySchema = z.enum(CURRENCIES);
export { dateSchema, decimalSchema };
