/**
 * The event contract both sides are fed from, for any domain: one topic per entity, keyed by the
 * entity's key, JSON values in a versioned envelope `{ eventId, type, eventTime, schemaVersion,
 * payload }`. The payload carries the key fields and what the event type carries (domain.ts); values
 * are checked field by field and returned in their pinned form, fields it does not declare are left
 * out (a newer producer may add some). A delete is a tombstone whose headers still carry event id, type
 * and event time, and whose Kafka timestamp is the event time, like every message's.
 */
import { canonicalInstant } from './fields.ts';
import type { ChildModel, DomainModel, EntityModel, EventTypeModel, Row } from './domain.ts';

export const SCHEMA_VERSION = 1;

/** Headers every message carries, tombstones included (values are strings on the wire). */
export const HEADERS = { eventId: 'dualrun-event-id', type: 'dualrun-event-type', eventTime: 'dualrun-event-time', arrivalTime: 'dualrun-arrival-time' } as const;

export interface DomainEvent {
  eventId: string;
  type: string;
  /** When it happened in the business: ISO UTC with milliseconds. */
  eventTime: string;
  schemaVersion: number;
  payload: Row;
}

/** One delivery of an event: what it is and when the systems learnt of it. A redelivery repeats an earlier event id. */
export interface Delivery {
  event: DomainEvent;
  /** ISO UTC with milliseconds. */
  arrivalTime: string;
  redelivery?: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Checks an envelope (parsed JSON) against the domain: its shape, its type, and its payload. */
export function parseEnvelope(domain: DomainModel, value: unknown): Parsed<{ event: DomainEvent; eventType: EventTypeModel }> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'envelope: expected a JSON object' };
  const envelope = value as Record<string, unknown>;
  if (typeof envelope.eventId !== 'string' || envelope.eventId === '') return { ok: false, reason: 'eventId: expected a non-empty string' };
  if (typeof envelope.type !== 'string') return { ok: false, reason: 'type: expected a string' };
  const eventType = domain.eventType(envelope.type);
  if (!eventType) return { ok: false, reason: `type: unknown event type "${envelope.type}"` };
  const eventTime = typeof envelope.eventTime === 'string' ? canonicalInstant(envelope.eventTime) : undefined;
  if (eventTime === undefined) return { ok: false, reason: 'eventTime: expected an ISO-8601 time with an offset' };
  if (envelope.schemaVersion !== SCHEMA_VERSION) return { ok: false, reason: `schemaVersion: expected ${SCHEMA_VERSION}` };
  const payload = checkPayload(eventType, envelope.payload);
  if (!payload.ok) return payload;
  return { ok: true, value: { event: { eventId: envelope.eventId, type: envelope.type, eventTime, schemaVersion: SCHEMA_VERSION, payload: payload.value }, eventType } };
}

/** The payload of an event type, checked and in pinned form: the key fields and the fields it carries. */
export function checkPayload(eventType: EventTypeModel, value: unknown): Parsed<Row> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'payload: expected a JSON object' };
  const input = value as Record<string, unknown>;
  const { entity, kind } = eventType;
  const out: Row = {};
  for (const name of entity.key) {
    const problem = checkInto(out, entity, name, input[name], false, 'payload');
    if (problem) return problem;
  }
  for (const name of eventType.carried) {
    const child = entity.children.find((c) => c.name === name);
    if (child) {
      const rows = checkChildren(child, input[name]);
      if (!rows.ok) return rows;
      out[name] = rows.value;
      continue;
    }
    // A patch or fold names what it sets: its fields must be there (an optional one may be null).
    const problem = checkInto(out, entity, name, input[name], kind.kind === 'upsert', 'payload');
    if (problem) return problem;
  }
  return { ok: true, value: out };
}

/** Each entity's and child's fields by name, looked up for every field of every event. */
const fieldIndexes = new WeakMap<Pick<EntityModel, 'fields'>, Map<string, EntityModel['fields'][number]>>();

function fieldOf(entity: Pick<EntityModel, 'fields'>, name: string): EntityModel['fields'][number] {
  let index = fieldIndexes.get(entity);
  if (!index) fieldIndexes.set(entity, (index = new Map(entity.fields.map((field) => [field.name, field]))));
  return index.get(name)!;
}

/** Checks one field into `out`; `prefix` (with the row's `index` in its array, when ≥ 0) names it in a problem, written only then. */
function checkInto(out: Row, entity: Pick<EntityModel, 'fields'>, name: string, value: unknown, mayBeAbsent: boolean, prefix: string, index = -1): { ok: false; reason: string } | undefined {
  const model = fieldOf(entity, name);
  if (value === undefined || value === null) {
    if (model.field.optional) {
      out[name] = null;
      return undefined;
    }
    if (mayBeAbsent && model.field.initial !== undefined) return undefined;
    return { ok: false, reason: `${fieldPath(prefix, index)}.${name}: expected ${describeExpected(model.field)}, found ${value === null ? 'null' : 'nothing'}` };
  }
  const checked = model.field.check(value);
  if (!checked.ok) return { ok: false, reason: `${fieldPath(prefix, index)}.${name}: expected ${checked.expected}, found ${JSON.stringify(value)}` };
  out[name] = checked.value;
  return undefined;
}

const fieldPath = (prefix: string, index: number): string => (index < 0 ? prefix : `${prefix}[${index}]`);

function describeExpected(field: { check(value: unknown): { ok: boolean; expected?: string } }): string {
  const answer = field.check(undefined);
  return answer.ok ? 'a value' : (answer.expected ?? 'a value');
}

function checkChildren(child: ChildModel, value: unknown): Parsed<Row[]> {
  if (!Array.isArray(value)) return { ok: false, reason: `payload.${child.name}: expected an array of ${child.name}` };
  if (value.length < child.min) return { ok: false, reason: `payload.${child.name}: expected at least ${child.min} ${child.name}, found ${value.length}` };
  const rows: Row[] = [];
  // A one-column key is compared as its checked value (of the field's one kind, so as exact as its
  // JSON); a wider one as the JSON of its values. Every line of every order passes here.
  const single = child.key.length === 1 ? child.key[0]! : undefined;
  const keys = new Set<unknown>();
  const prefix = `payload.${child.name}`;
  for (let index = 0; index < value.length; index += 1) {
    const item: unknown = value[index];
    if (item === null || typeof item !== 'object') return { ok: false, reason: `payload.${child.name}[${index}]: expected an object` };
    const row: Row = {};
    for (const { name } of child.fields) {
      const problem = checkInto(row, child, name, (item as Record<string, unknown>)[name], false, prefix, index);
      if (problem) return problem;
    }
    const key = single !== undefined ? row[single] : JSON.stringify(child.key.map((name) => row[name]));
    if (keys.has(key)) return { ok: false, reason: `payload.${child.name}[${index}]: repeats the key ${child.key.join(', ')} of an earlier row` };
    keys.add(key);
    rows.push(row);
  }
  return { ok: true, value: rows };
}

/** Whether an event type deletes its entity (published as a tombstone). */
export const isDelete = (eventType: EventTypeModel): boolean => eventType.kind.kind === 'delete';
