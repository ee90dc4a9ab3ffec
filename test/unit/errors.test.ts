import { describe, expect, it } from 'vitest';
import { EventError, ExitCode, InputError, SinkError } from '../../src/errors.ts';

describe('errors say where', () => {
  it('InputError names file:line:column', () => {
    const error = new InputError('fixtures/baseline/orders.csv', 3, 7, 'expected a decimal, found "abc"', { hint: 'write the amount like 12.50' });
    expect(error.describe()).toBe('fixtures/baseline/orders.csv:3:7: expected a decimal, found "abc"\n  fix: write the amount like 12.50');
    expect(error.exitCode).toBe(ExitCode.usage);
  });

  it('EventError names topic[partition]@offset', () => {
    expect(new EventError('shop.orders', 2, '41', 'not JSON').describe()).toBe('shop.orders[2]@41: not JSON');
  });

  it('SinkError keeps the driver error as cause', () => {
    const cause = new Error('deadlock');
    const error = new SinkError('out_orders', 'write failed', { cause });
    expect(error.cause).toBe(cause);
    expect(error.where).toBe('table out_orders');
  });
});
