// defineDomain on a domain made up here (a parcel service: depots and parcels), not the shop: what it
// derives (tables, columns, topics, files, keys, payloads), what each event kind does to a row, and one
// test per rule it checks — each a ConfigError naming the key and the fix.
import { describe, expect, it } from 'vitest';
import { decode, toMessage } from '../../src/model/codec.ts';
import { decodeKey, defineDomain, encodeKey, fold, hardDelete, patch, upsert, type DomainInput } from '../../src/model/domain.ts';
import { checkPayload, parseEnvelope } from '../../src/model/events.ts';
import { field, optional } from '../../src/model/fields.ts';
import { applyEvent, viewOf } from '../../src/model/fold.ts';
import { ConfigError } from '../../src/errors.ts';

const parcels = () =>
  ({
    name: 'parcels',
    timeZone: 'America/New_York',
    entities: {
      depots: {
        key: ['region', 'depotNo'],
        fields: { region: field.enum(['east', 'west']), depotNo: field.integer({ min: 1 }), city: field.text(), capacity: optional(field.integer({ min: 0 })) },
        events: { DepotOpened: upsert(), DepotClosed: hardDelete() },
      },
      parcels: {
        key: ['parcelId'],
        fields: { parcelId: field.id(), depotRegion: field.enum(['east', 'west']), weightKg: field.decimal(3, { min: 0 }), sentAt: field.instant(), state: field.enum(['sent', 'delivered', 'lost'], { initial: 'sent' }), scans: field.integer({ initial: 0 }) },
        children: { items: { key: ['itemNo'], fields: { itemNo: field.integer({ min: 1 }), sku: field.id() }, min: 1 } },
        eventTime: 'sentAt',
        table: { name: 'parcel', createdAt: 'inserted_at', columns: { weightKg: 'weight' } },
        events: {
          ParcelSent: upsert({ omit: ['state', 'scans'] }),
          ParcelDelivered: patch('state'),
          ParcelScanned: fold([], (row) => (row ? { ...row, scans: (row.scans as number) + 1 } : null)),
          ParcelWithdrawn: hardDelete(),
        },
      },
    },
  }) satisfies DomainInput;

const domain = defineDomain(parcels());
const event = (type: string, payload: Record<string, unknown>, eventId = type) => ({ eventId, type, eventTime: '2024-06-03T10:00:00.000Z', schemaVersion: 1, payload });

describe('what a declaration gives', () => {
  it('tables, columns, topics and files from the names, or as declared', () => {
    const depots = domain.entity('depots')!;
    expect([depots.table.name, depots.topic, depots.file]).toEqual(['depots', 'depots', 'depots.csv']);
    const parcel = domain.entity('parcels')!;
    expect([parcel.table.name, parcel.table.createdAt, parcel.file]).toEqual(['parcel', 'inserted_at', 'parcel.csv']);
    expect(parcel.fields.map((f) => f.column)).toEqual(['parcel_id', 'depot_region', 'weight', 'sent_at', 'state', 'scans']);
    const items = parcel.children[0]!;
    expect([items.table.name, items.file, items.parentKey.map((f) => f.column)]).toEqual(['parcels_items', 'parcels_items.csv', ['parcel_id']]);
    expect(domain.eventType('ParcelSent')!.carried).toEqual(['depotRegion', 'weightKg', 'sentAt', 'items']);
  });

  it('keys: one field as its value, several as a JSON array, decoded and checked', () => {
    const depots = domain.entity('depots')!;
    expect(encodeKey(depots, { region: 'east', depotNo: 7 })).toBe('["east",7]');
    expect(decodeKey(depots, '["east",7]')).toEqual({ region: 'east', depotNo: 7 });
    expect(decodeKey(depots, '["north",7]')).toBeUndefined();
    expect(decodeKey(domain.entity('parcels')!, 'P-1')).toEqual({ parcelId: 'P-1' });
  });

  it('payloads: the key and what the type carries, checked, in pinned form; unknown fields left out', () => {
    const sent = checkPayload(domain.eventType('ParcelSent')!, { parcelId: 'P1', depotRegion: 'east', weightKg: '1.5', sentAt: '2024-06-03T12:00:00+02:00', items: [{ itemNo: 1, sku: 'S1' }], colour: 'red' });
    expect(sent).toEqual({ ok: true, value: { parcelId: 'P1', depotRegion: 'east', weightKg: '1.5', sentAt: '2024-06-03T10:00:00.000Z', items: [{ itemNo: 1, sku: 'S1' }] } });
    expect(checkPayload(domain.eventType('ParcelSent')!, { parcelId: 'P1', depotRegion: 'east', weightKg: '1.5', sentAt: '2024-06-03T10:00:00Z', items: [] })).toMatchObject({ ok: false, reason: 'payload.items: expected at least 1 items, found 0' });
    expect(checkPayload(domain.eventType('ParcelDelivered')!, { parcelId: 'P1' })).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.state: expected one of sent, delivered, lost, found nothing/) });
    expect(checkPayload(domain.eventType('DepotOpened')!, { region: 'east', depotNo: 1, city: 'Boston' })).toEqual({ ok: true, value: { region: 'east', depotNo: 1, city: 'Boston', capacity: null } });
    expect(parseEnvelope(domain, event('ParcelLost', {}))).toMatchObject({ ok: false, reason: 'type: unknown event type "ParcelLost"' });
  });

  it('a delete travels as a tombstone whose key and headers say which one', () => {
    const closed = { event: event('DepotClosed', { region: 'west', depotNo: 2 }), arrivalTime: '2024-06-03T10:00:05.000Z' };
    const { entity, message } = toMessage(domain, closed);
    expect([entity.name, message.key, message.value]).toEqual(['depots', '["west",2]', null]);
    const raw = { key: Buffer.from(message.key), value: null, timestamp: message.timestamp, headers: message.headers };
    expect(decode(domain, entity, raw)).toMatchObject({ ok: true, event: { type: 'DepotClosed', payload: { region: 'west', depotNo: 2 } } });
    expect(decode(domain, entity, { ...raw, key: Buffer.from('west-2') })).toMatchObject({ ok: false, reason: expect.stringMatching(/^tombstone key "west-2" is not a key of depots/) });
    expect(decode(domain, domain.entity('parcels')!, raw)).toMatchObject({ ok: false, reason: 'event type DepotClosed does not belong on the parcels topic' });
  });
});

describe('what each kind of event does to a row', () => {
  const type = (name: string) => domain.eventType(name)!;
  const sent = event('ParcelSent', { parcelId: 'P1', depotRegion: 'east', weightKg: '1.5', sentAt: '2024-06-03T10:00:00.000Z', items: [{ itemNo: 1, sku: 'S1' }] }, 'e-sent');

  it('an upsert creates the row with omitted fields at their initial value, and pins it', () => {
    const state = applyEvent(type('ParcelSent'), undefined, sent, '2024-06-03T10:00:01.000Z');
    expect(viewOf(state)).toEqual({ parcelId: 'P1', depotRegion: 'east', weightKg: '1.5', sentAt: '2024-06-03T10:00:00.000Z', state: 'sent', scans: 0, items: [{ itemNo: 1, sku: 'S1' }] });
    expect(state?.pin).toEqual({ eventId: 'e-sent', arrival: '2024-06-03T10:00:01.000Z', eventTime: '2024-06-03T10:00:00.000Z' });
  });

  it('a patch that comes first is kept, and the row starts with it', () => {
    const early = applyEvent(type('ParcelDelivered'), undefined, event('ParcelDelivered', { parcelId: 'P1', state: 'delivered' }), '2024-06-03T09:00:00.000Z');
    expect(viewOf(early)).toBeNull();
    const state = applyEvent(type('ParcelSent'), early, sent, '2024-06-03T10:00:01.000Z');
    expect(viewOf(state)).toMatchObject({ state: 'delivered', scans: 0 });
  });

  it('a patch and a fold change the row but keep the pin; a delete leaves nothing', () => {
    const created = applyEvent(type('ParcelSent'), undefined, sent, '2024-06-03T10:00:01.000Z');
    const delivered = applyEvent(type('ParcelDelivered'), created, event('ParcelDelivered', { parcelId: 'P1', state: 'delivered' }), '2024-06-03T11:00:00.000Z');
    const scanned = applyEvent(type('ParcelScanned'), delivered, event('ParcelScanned', { parcelId: 'P1' }), '2024-06-03T12:00:00.000Z');
    expect(viewOf(scanned)).toMatchObject({ state: 'delivered', scans: 1 });
    expect(scanned?.pin?.eventId).toBe('e-sent');
    // The states before are left as they were: every event gives a new one.
    expect(viewOf(created)).toMatchObject({ state: 'sent', scans: 0 });
    expect(applyEvent(type('ParcelWithdrawn'), scanned, event('ParcelWithdrawn', { parcelId: 'P1' }), '2024-06-03T13:00:00.000Z')).toBeUndefined();
    // A fold on no row that gives none leaves none.
    expect(applyEvent(type('ParcelScanned'), undefined, event('ParcelScanned', { parcelId: 'P2' }), '2024-06-03T12:00:00.000Z')).toBeUndefined();
  });
});

describe('the rules a declaration must follow', () => {
  const rejected = (change: (input: ReturnType<typeof parcels>) => unknown): ConfigError => {
    const input = parcels();
    change(input);
    try {
      defineDomain(input as DomainInput);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected the declaration to be rejected');
  };
  const cases: [string, (input: ReturnType<typeof parcels>) => unknown, string, RegExp][] = [
    ['a time zone Node does not know', (d) => Object.assign(d, { timeZone: 'Mars/Olympus' }), 'timeZone', /not an IANA time zone/],
    ['no entity', (d) => Object.assign(d, { entities: {} }), 'entities', /declares no entity/],
    ['a key field that is not declared', (d) => Object.assign(d.entities.depots, { key: ['depotId'] }), 'entities.depots.key[0]', /"depotId" is not one of its fields/],
    ['an optional key field', (d) => Object.assign(d.entities.depots, { key: ['capacity'] }), 'entities.depots.key[0]', /is optional; a key field always has a value/],
    ['an event time that is not an instant', (d) => Object.assign(d.entities.parcels, { eventTime: 'weightKg' }), 'entities.parcels.eventTime', /not one of its instant fields/],
    ['an upsert omitting a field with no initial value', (d) => Object.assign(d.entities.parcels.events, { ParcelSent: upsert({ omit: ['weightKg'] }) }), 'entities.parcels.events.ParcelSent.omit', /neither optional nor has an initial value/],
    ['a patch of an unknown field', (d) => Object.assign(d.entities.parcels.events, { ParcelDelivered: patch('status') }), 'entities.parcels.events.ParcelDelivered.fields[0]', /"status" is not one of parcels's fields/],
    ['a patch of the key', (d) => Object.assign(d.entities.parcels.events, { ParcelDelivered: patch('parcelId') }), 'entities.parcels.events.ParcelDelivered.fields[0]', /is a key field/],
    ['a fold without its function', (d) => Object.assign(d.entities.parcels.events, { ParcelScanned: { kind: 'fold', fields: [] } }), 'entities.parcels.events.ParcelScanned', /needs its apply function/],
    ['something that is not an event kind', (d) => Object.assign(d.entities.parcels.events, { ParcelScanned: 'count it' }), 'entities.parcels.events.ParcelScanned', /is not an event kind/],
    ['one event type in two entities', (d) => Object.assign(d.entities.depots.events, { ParcelSent: upsert() }), 'entities.parcels.events.ParcelSent', /already declared by depots/],
    ['two entities on one table', (d) => Object.assign(d.entities.depots, { table: 'parcel' }), 'entities.parcels.table', /table parcel is already depots's/],
    ['a column name that is not plain SQL', (d) => Object.assign(d.entities.parcels, { table: { name: 'parcel', columns: { weightKg: 'weight kg' } } }), 'entities.parcels.fields.weightKg', /not a plain SQL name/],
    ['a child repeating its parent key', (d) => Object.assign(d.entities.parcels.children.items.fields, { parcelId: field.id() }), 'entities.parcels.children.items.fields.parcelId', /repeats the parent's key field/],
    ['a topic Kafka does not allow', (d) => Object.assign(d.entities.depots, { topic: 'depots!' }), 'entities.depots.topic', /characters Kafka does not allow/],
  ];
  it.each(cases)('%s', (_what, change, key, message) => {
    const error = rejected(change);
    expect(error.key).toBe(`domain parcels: ${key}`);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it('from() names the entity or join it does not know', () => {
    expect(() => domain.from('trucks' as never)).toThrow(/parcels has no entity "trucks"/);
    expect(() => domain.from('parcels', { joins: { routes: 'latest' } as never })).toThrow(/no entity "routes" to join/);
    expect(() => domain.from('parcels', { joins: { depots: 'soonest' } as never })).toThrow(/must be 'latest' or 'asOfEventTime'/);
    // The fix is written in the team's own entity names, not in the shop's.
    expect(() => domain.from('parcels', { joins: { depots: 'soonest' } as never })).toThrow(expect.objectContaining({ hint: expect.stringContaining("joins: { depots: 'latest' }") }));
  });

  it('a fold may be given its fields to carry', () => {
    const custom = defineDomain({ ...parcels(), entities: { ...parcels().entities, parcels: { ...parcels().entities.parcels, events: { ...parcels().entities.parcels.events, ParcelScanned: fold(['state'], (row, payload) => (row ? { ...row, state: payload.state } : null)) } } } });
    expect(custom.eventType('ParcelScanned')!.carried).toEqual(['state']);
  });
});
