// Business time (Stockholm days, DST) and exact money: the rules both sides must agree on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { businessDay, cutoffFor, dayBounds, divRound, localToInstant, fromUnits, netLineAmount, parseEnvelope, sumDecimals, toEur, toUnits } from '../../src/domain/index.ts';

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
    expect(sumDecimals(Array.from({ length: 10 }, () => '0.10'))).toBe('1.00');
  });
});

describe('event envelope', () => {
  it('accepts a valid event and names the field of an invalid one', () => {
    const event = { eventId: 'e1', type: 'OrderStatusChanged', eventTime: '2024-10-27T01:30:00Z', schemaVersion: 1, payload: { orderId: 'o1', status: 'paid' } };
    expect(parseEnvelope(event)).toMatchObject({ ok: true });
    expect(parseEnvelope({ ...event, payload: { orderId: 'o1', status: 'lost' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/^payload\.status: /) });
    expect(parseEnvelope({ ...event, type: 'Nope' })).toMatchObject({ ok: false, reason: expect.stringMatching(/^type: /) });
  });
});

describe('local wall-clock times around DST', () => {
  it('takes the earlier 02:30 on the autumn day and moves a skipped spring 02:30 forward', () => {
    expect(localToInstant('2024-10-27', '02:30').toISOString()).toBe('2024-10-27T00:30:00.000Z');
    expect(localToInstant('2024-03-31', '02:30').toISOString()).toBe('2024-03-31T01:30:00.000Z'); // = 03:30 CEST
    expect(localToInstant('2024-03-31', '01:59').toISOString()).toBe('2024-03-31T00:59:00.000Z');
  });
});
