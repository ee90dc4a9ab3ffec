// Business time (Stockholm and Sydney days, DST) and exact money: the rules both sides must agree on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divRound, fromUnits, sumDecimals, toUnits } from '../../src/decimal.ts';
import { netLineAmount, shop, toEur } from '../../src/domains/shop/index.ts';
import { parseEnvelope } from '../../src/model/events.ts';
import * as time from '../../src/time.ts';

const STOCKHOLM = 'Europe/Stockholm';
const businessDay = (instant: string) => time.businessDay(instant, STOCKHOLM);
const dayBounds = (date: string) => time.dayBounds(date, STOCKHOLM);
const cutoffFor = (date: string, at = '02:00') => time.cutoffFor(date, at, STOCKHOLM);
const localToInstant = (date: string, at: string) => time.localToInstant(date, at, STOCKHOLM);

describe('business days in Europe/Stockholm', () => {
  it('puts 23:30 UTC in winter on the next local day', () => {
    expect(businessDay('2024-01-15T22:59:59Z')).toBe('2024-01-15');
    expect(businessDay('2024-01-15T23:00:00Z')).toBe('2024-01-16');
  });

  it('shifts the boundary to 22:00 UTC in summer', () => {
    expect(businessDay('2024-07-01T21:59:59.999Z')).toBe('2024-07-01');
    expect(businessDay('2024-07-01T22:00:00Z')).toBe('2024-07-02');
  });

  it('gives the last Sunday of October 25 hours and the last Sunday of March 23', () => {
    const october = dayBounds('2024-10-27');
    expect(october.start.toISOString()).toBe('2024-10-26T22:00:00.000Z');
    expect(october.end.toISOString()).toBe('2024-10-27T23:00:00.000Z');
    const march = dayBounds('2024-03-31');
    expect((march.end.getTime() - march.start.getTime()) / 3_600_000).toBe(23);
    expect(dayBounds('2024-06-01').end.getTime() - dayBounds('2024-06-01').start.getTime()).toBe(24 * 3_600_000);
  });

  it('puts the nightly cut-off at 02:00 local the next day', () => {
    expect(cutoffFor('2024-10-26').toISOString()).toBe('2024-10-27T00:00:00.000Z'); // still summer time at 02:00 CEST
    expect(cutoffFor('2024-10-27').toISOString()).toBe('2024-10-28T01:00:00.000Z');
    expect(cutoffFor('2024-06-10', '03:30').toISOString()).toBe('2024-06-11T01:30:00.000Z');
  });
});

describe('exact money', () => {
  it('round-trips decimal strings through integer units', () => {
    expect(toUnits('12.5', 2)).toBe(1250n);
    expect(fromUnits(-5n, 2)).toBe('-0.05');
    expect(() => toUnits('1.234', 2)).toThrow(/more than 2 decimals/);
  });

  it('reads every decimal exactly, short or long, and refuses what is not one', () => {
    // Any integer of up to 30 digits with up to `scale` decimals: the fast path and the strict one must agree.
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), (units, decimals, extra) => {
        const scale = decimals + extra;
        const text = fromUnits(units, decimals);
        expect(toUnits(text, scale)).toBe(units * 10n ** BigInt(extra));
      }),
    );
    expect(toUnits('007.10', 2)).toBe(710n);
    expect(toUnits('123456789012345.67', 2)).toBe(12345678901234567n);
    for (const bad of ['12.', '.5', '-', '', '1e3', '1.2.3', '--1', '0x10']) expect(() => toUnits(bad, 2), bad).toThrow(/not a decimal number/);
  });

  it('rounds half away from zero, like SQL ROUND(numeric, 2)', () => {
    expect(divRound(5n, 10n)).toBe(1n);
    expect(divRound(-5n, 10n)).toBe(-1n);
    expect(divRound(4n, 10n)).toBe(0n);
    expect(netLineAmount(3, '19.99', '12.50')).toBe('52.47'); // 52.47375
    expect(netLineAmount(1, '0.05', '50')).toBe('0.03'); // 0.025 rounds up
    expect(toEur('100.00', '0.08712345')).toBe('8.71');
  });

  it('sums without floating-point drift', () => {
    expect(sumDecimals(Array.from({ length: 10 }, () => '0.10'), 2)).toBe('1.00');
  });
});

describe('event envelope', () => {
  it('accepts a valid event and names the field of an invalid one', () => {
    const event = { eventId: 'e1', type: 'OrderStatusChanged', eventTime: '2024-10-27T01:30:00Z', schemaVersion: 1, payload: { orderId: 'o1', status: 'paid' } };
    expect(parseEnvelope(shop, event)).toMatchObject({ ok: true, value: { event: { eventTime: '2024-10-27T01:30:00.000Z', payload: { orderId: 'o1', status: 'paid' } } } });
    expect(parseEnvelope(shop, { ...event, payload: { orderId: 'o1', status: 'lost' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.status: expected one of placed, paid, shipped, cancelled/) });
    expect(parseEnvelope(shop, { ...event, payload: { orderId: 'o1' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.status: .*found nothing/) });
    expect(parseEnvelope(shop, { ...event, type: 'Nope' })).toMatchObject({ ok: false, reason: expect.stringMatching(/^type: /) });
  });
});

describe('business days in Australia/Sydney, whose DST runs the other way round', () => {
  const SYDNEY = 'Australia/Sydney';
  it('gives the first Sunday of April 25 hours and the first Sunday of October 23', () => {
    const april = time.dayBounds('2024-04-07', SYDNEY); // AEDT (+11) → AEST (+10) at 03:00 local
    expect(april.start.toISOString()).toBe('2024-04-06T13:00:00.000Z');
    expect((april.end.getTime() - april.start.getTime()) / 3_600_000).toBe(25);
    const october = time.dayBounds('2024-10-06', SYDNEY); // AEST → AEDT at 02:00 local
    expect((october.end.getTime() - october.start.getTime()) / 3_600_000).toBe(23);
    expect(time.businessDay('2024-07-01T13:59:59Z', SYDNEY)).toBe('2024-07-01');
    expect(time.businessDay('2024-07-01T14:00:00Z', SYDNEY)).toBe('2024-07-02');
  });
  it('moves the 02:00 cut-off of the spring-forward night to 03:00', () => {
    expect(time.cutoffFor('2024-10-05', '02:00', SYDNEY).toISOString()).toBe('2024-10-05T16:00:00.000Z');
  });
});

describe('local wall-clock times around DST', () => {
  it('takes the earlier 02:30 on the autumn day and moves a skipped spring 02:30 forward', () => {
    expect(localToInstant('2024-10-27', '02:30').toISOString()).toBe('2024-10-27T00:30:00.000Z');
    expect(localToInstant('2024-03-31', '02:30').toISOString()).toBe('2024-03-31T01:30:00.000Z'); // = 03:30 CEST
    expect(localToInstant('2024-03-31', '01:59').toISOString()).toBe('2024-03-31T00:59:00.000Z');
  });
});
