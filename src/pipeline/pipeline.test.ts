// Operators one by one, values worked out by hand.
import { describe, expect, it } from 'vitest';
import { avg, count, latest, max, min, sumDecimal, sumInteger } from './dsl.ts';
import { KeyAggregate, combinePartials } from './aggregate.ts';
import { BusinessCalendar, FixedCalendar, WindowCloser } from './windows.ts';
import { EventIdWindow } from './dedupe.ts';
import { VersionedTable } from './versioned-table.ts';

const ms = (iso: string) => Date.parse(iso);

describe('VersionedTable', () => {
  const table = new VersionedTable<string>();
  // v1 valid from event time 10:00, arrived 10:00; v2 event time 09:00 (a correction of the past) arrived 12:00.
  table.put('k', { arrivalMs: ms('2024-01-01T10:00:00Z'), eventTimeMs: ms('2024-01-01T10:00:00Z'), value: 'v1' });
  table.put('k', { arrivalMs: ms('2024-01-01T12:00:00Z'), eventTimeMs: ms('2024-01-01T09:00:00Z'), value: 'v2' });
  table.put('k', { arrivalMs: ms('2024-01-01T14:00:00Z'), eventTimeMs: ms('2024-01-01T14:00:00Z'), value: null });

  it('latest: the row as it stood at an arrival, deletes included', () => {
    expect(table.latest('k', ms('2024-01-01T09:59:59Z'))).toBeUndefined();
    expect(table.latest('k', ms('2024-01-01T10:00:00Z'))).toBe('v1');
    expect(table.latest('k', ms('2024-01-01T13:00:00Z'))).toBe('v2');
    expect(table.latest('k', ms('2024-01-01T15:00:00Z'))).toBeUndefined();
  });

  it('as of event time: newest version by event time among those arrived', () => {
    expect(table.asOfEventTime('k', ms('2024-01-01T13:00:00Z'), ms('2024-01-01T11:00:00Z'))).toBe('v1');
    expect(table.asOfEventTime('k', ms('2024-01-01T13:00:00Z'), ms('2024-01-01T09:30:00Z'))).toBe('v2');
    expect(table.asOfEventTime('k', ms('2024-01-01T11:00:00Z'), ms('2024-01-01T09:30:00Z'))).toBeUndefined();
  });
});

describe('WindowCloser (Europe/Stockholm, 30 min grace)', () => {
  const make = () => new WindowCloser(new BusinessCalendar('Europe/Stockholm'), 30 * 60_000);

  it('closes a day at the first arrival of an event at or after its end + grace', () => {
    const closer = make();
    // 2024-10-27 (25 h, DST ends) runs 2024-10-26T22:00Z – 2024-10-27T23:00Z.
    closer.observe(ms('2024-10-27T12:00:00Z'), ms('2024-10-27T12:00:00Z'));
    closer.observe(ms('2024-10-27T23:20:00Z'), ms('2024-10-27T23:20:00Z')); // next day, inside grace: does not close
    expect(closer.closedAt('2024-10-27')).toBe(Infinity);
    closer.observe(ms('2024-10-27T23:30:00Z'), ms('2024-10-28T01:00:00Z'));
    expect(closer.closedAt('2024-10-27')).toBe(ms('2024-10-28T01:00:00Z'));
    // An event of two days later, read later but arrived earlier, closes it earlier: read order does not matter.
    closer.observe(ms('2024-10-29T10:00:00Z'), ms('2024-10-28T00:30:00Z'));
    expect(closer.closedAt('2024-10-27')).toBe(ms('2024-10-28T00:30:00Z'));
    expect(closer.isClosedFor('2024-10-27', ms('2024-10-28T00:30:00Z'))).toBe(false);
    expect(closer.isClosedFor('2024-10-27', ms('2024-10-28T00:30:00.001Z'))).toBe(true);
  });

  it('answers for days without events of their own', () => {
    const closer = make();
    closer.observe(ms('2024-03-05T10:00:00Z'), ms('2024-03-05T10:00:00Z'));
    expect(closer.closedAt('2024-03-01')).toBe(ms('2024-03-05T10:00:00Z'));
    expect(closer.closedAt('2024-03-09')).toBe(Infinity);
  });

  it('uses the 23-hour spring day', () => {
    const closer = make();
    // 2024-03-31 runs 2024-03-30T23:00Z – 2024-03-31T22:00Z; 22:29Z is inside grace, 22:30Z is not.
    closer.observe(ms('2024-03-31T22:29:00Z'), 1);
    expect(closer.closedAt('2024-03-31')).toBe(Infinity);
    closer.observe(ms('2024-03-31T22:30:00Z'), 2);
    expect(closer.closedAt('2024-03-31')).toBe(2);
  });
});

describe('WindowCloser (one-hour windows, 15 min grace)', () => {
  it('closes an hour at the first arrival of an event at or after its end + grace, whatever the zone', () => {
    const closer = new WindowCloser(new FixedCalendar(3_600_000), 15 * 60_000);
    expect(closer.calendar.windowOf(ms('2024-04-06T15:59:59.999Z'))).toBe('2024-04-06T15:00:00.000Z');
    closer.observe(ms('2024-04-06T15:10:00Z'), ms('2024-04-06T15:11:00Z'));
    closer.observe(ms('2024-04-06T16:14:00Z'), ms('2024-04-06T16:15:00Z')); // next hour, inside grace
    expect(closer.closedAt('2024-04-06T15:00:00.000Z')).toBe(Infinity);
    closer.observe(ms('2024-04-06T16:15:00Z'), ms('2024-04-06T16:20:00Z'));
    expect(closer.closedAt('2024-04-06T15:00:00.000Z')).toBe(ms('2024-04-06T16:20:00Z'));
    // An hour two hours later closes it too (its every event is past end + grace).
    closer.observe(ms('2024-04-06T17:05:00Z'), ms('2024-04-06T16:18:00Z'));
    expect(closer.closedAt('2024-04-06T15:00:00.000Z')).toBe(ms('2024-04-06T16:18:00Z'));
    expect(closer.calendar.description).toBe('windows of 1 h');
  });
});

describe('EventIdWindow', () => {
  it('drops redeliveries within retention of the first arrival, forgets after', () => {
    const window = new EventIdWindow(1000);
    const ids = window.remember(undefined, 'e1', 5000, 5000);
    expect(window.isDuplicate(ids, 'e1', 6000)).toBe(true);
    expect(window.isDuplicate(ids, 'e1', 6001)).toBe(false);
    expect(window.isDuplicate(ids, 'e2', 5000)).toBe(false);
    expect(window.isDuplicate(undefined, 'e1', 5000)).toBe(false);
  });

  it('prunes expired ids when it remembers a new one, and says when none are live', () => {
    const window = new EventIdWindow(1000);
    const ids = window.remember(window.remember(undefined, 'e1', 5000, 5000), 'e2', 5500, 5500);
    expect(ids).toEqual({ e1: 5000, e2: 5500 });
    expect(window.remember(ids, 'e3', 6200, 6200)).toEqual({ e2: 5500, e3: 6200 });
    expect(window.live(ids, 6000)).toBe(ids);
    expect(window.live(ids, 6600)).toBeUndefined();
  });
});

describe('KeyAggregate', () => {
  const aggregations = { n: count(), units: sumInteger('units'), money: sumDecimal('money'), first: min('at'), last: max('at'), cat: latest('cat') };

  it('sums exactly and retracts, recomputing min/max/latest when their holder leaves', () => {
    const aggregate = new KeyAggregate(aggregations);
    aggregate.apply('a', { values: { units: 2, money: '0.10', at: '2024-01-02', cat: 'x' }, stamp: '1' });
    aggregate.apply('b', { values: { units: 3, money: '0.20', at: '2024-01-01', cat: 'y' }, stamp: '2' });
    aggregate.apply('c', { values: { units: 1, money: '0.05', at: '2024-01-03', cat: 'z' }, stamp: '3' });
    // 0.10 + 0.20 + 0.05 = 0.35 exactly (binary floats give 0.35000000000000003).
    expect(aggregate.row()).toEqual({ n: 3, units: 6, money: '0.35', first: '2024-01-01', last: '2024-01-03', cat: 'z' });
    aggregate.apply('b', null);
    aggregate.apply('c', null);
    expect(aggregate.row()).toEqual({ n: 1, units: 2, money: '0.10', first: '2024-01-02', last: '2024-01-02', cat: 'x' });
  });

  it('combines partials of several partitions into the row one aggregate of all the orders gives', () => {
    const contributions = [
      { values: { units: 2, money: '0.10', at: '2024-01-02', cat: 'x' }, stamp: '1' },
      { values: { units: 3, money: '-0.20', at: '2024-01-01', cat: 'y' }, stamp: '3' },
      { values: { units: 1, money: '0.05', at: null, cat: 'z' }, stamp: '2' },
      { values: { units: 4, money: '7.00', at: '2024-01-05', cat: 'w' }, stamp: '4' },
    ];
    const all = new KeyAggregate(aggregations);
    const parts = [new KeyAggregate(aggregations), new KeyAggregate(aggregations)];
    contributions.forEach((contribution, index) => {
      all.apply(`o${index}`, contribution);
      parts[index % 2]!.apply(`o${index}`, contribution);
    });
    all.apply('o3', null);
    parts[1]!.apply('o3', null);
    const combined = combinePartials(aggregations, parts.map((part) => JSON.parse(JSON.stringify(part.partial()))));
    expect(combined).toEqual({ n: 3, units: 6, money: '-0.05', first: '2024-01-01', last: '2024-01-02', cat: 'y' });
    expect(combined).toEqual(all.row());
  });

  it('averages exactly, without NULLs, half away from zero, across partitions', () => {
    const mean = { kwh: avg('kwh', 3) };
    const a = new KeyAggregate(mean);
    const b = new KeyAggregate(mean);
    a.apply('r1', { values: { kwh: '1.000' }, stamp: '' });
    a.apply('r2', { values: { kwh: null }, stamp: '' });
    b.apply('r3', { values: { kwh: '2.001' }, stamp: '' });
    b.apply('r4', { values: { kwh: '0.000' }, stamp: '' });
    // (1.000 + 2.001 + 0.000) / 3 = 1.000333… → 1.000; NULL is not counted.
    expect(combinePartials(mean, [a.partial(), b.partial()])).toEqual({ kwh: '1.000' });
    b.apply('r3', { values: { kwh: '2.002' }, stamp: '' });
    // 3.002 / 3 = 1.000666… → 1.001
    expect(combinePartials(mean, [JSON.parse(JSON.stringify(a.partial())), b.partial()])).toEqual({ kwh: '1.001' });
    a.apply('r1', null);
    b.apply('r3', null);
    b.apply('r4', null);
    expect(combinePartials(mean, [a.partial(), b.partial()])).toEqual({ kwh: null });
  });

  it('is idempotent: setting the same contribution twice counts it once', () => {
    const aggregate = new KeyAggregate(aggregations);
    const contribution = { values: { units: 2, money: '1.00', at: null, cat: null }, stamp: '1' };
    aggregate.apply('a', contribution);
    aggregate.apply('a', contribution);
    expect(aggregate.row()).toEqual({ n: 1, units: 2, money: '1.00', first: null, last: null, cat: null });
    aggregate.apply('a', null);
    expect(aggregate.isEmpty).toBe(true);
  });
});
