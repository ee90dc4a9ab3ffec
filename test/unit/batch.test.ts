// Pure pieces of the batch runner: date parsing, lock names, the output value representation.
import { describe, expect, it } from 'vitest';
import { lockName } from '../../batch/lock.ts';
import { normalizeValue } from '../../batch/output.ts';
import { parseBusinessDate } from '../../batch/runner.ts';
import { UsageError } from '../../src/errors.ts';

describe('parseBusinessDate', () => {
  it('accepts real calendar dates written YYYY-MM-DD', () => {
    expect(parseBusinessDate('2024-02-29')).toBe('2024-02-29');
    expect(parseBusinessDate('2024-10-27')).toBe('2024-10-27');
  });
  it.each(['2023-02-29', '2024-13-01', '2024-04-31', '24-10-27', '2024-10-27T00:00', '', 'yesterday'])('refuses %j with a usage error', (value) => {
    expect(() => parseBusinessDate(value)).toThrow(UsageError);
    expect(() => parseBusinessDate(value)).toThrow(`--date: "${value}" is not a date written YYYY-MM-DD`);
  });
});

describe('lockName', () => {
  it('is readable when short and at most 64 characters (MariaDB) when long', () => {
    expect(lockName('orders_enriched', '2024-10-27')).toBe('dualrun:orders_enriched:2024-10-27');
    const long = lockName('x'.repeat(60), '2024-10-27');
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(lockName('x'.repeat(61), '2024-10-27'));
  });
});

describe('normalizeValue', () => {
  it('writes values as every runner hands them out', () => {
    expect(normalizeValue({ name: 'n', type: 'decimal', scale: 2 }, '12.5')).toBe('12.50');
    expect(normalizeValue({ name: 'n', type: 'decimal', scale: 2 }, '-0.05')).toBe('-0.05');
    expect(normalizeValue({ name: 'n', type: 'integer' }, '42')).toBe(42);
    expect(normalizeValue({ name: 'n', type: 'timestamp' }, new Date('2024-10-27T01:30:00Z'))).toBe('2024-10-27T01:30:00.000Z');
    expect(normalizeValue({ name: 'n', type: 'string', nullable: true }, null)).toBeNull();
  });
  it('refuses a decimal with more digits than the column scale rather than rounding it silently', () => {
    expect(() => normalizeValue({ name: 'n', type: 'decimal', scale: 2 }, '1.005')).toThrow(RangeError);
  });
});
