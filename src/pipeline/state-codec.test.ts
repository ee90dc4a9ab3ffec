import { describe, expect, it } from 'vitest';
import { shop } from '../domains/shop/index.ts';
import { DualrunError } from '../errors.ts';
import type { InstanceState } from './processor.ts';
import { decodeState, encodeState } from './state-codec.ts';

const orders = shop.entity('orders')!;
const row = { orderId: 'o1', customerId: 'c1', currency: 'EUR', placedAt: '2024-10-27T10:00:00.000Z', status: 'paid', lines: [{ lineNo: 1, productId: 'p1', quantity: 2, unitPrice: '10.00', discountPct: '0' }] };
const pin = { eventId: 'e1', arrival: '2024-10-27T10:00:05.000Z', eventTime: '2024-10-27T10:00:00.000Z' };

describe('state codec', () => {
  it('writes a state positionally, in little more than half its JSON, and reads back the same state', () => {
    const states: InstanceState[] = [
      { row, pin, ids: { e1: 1, e2: 2 } },
      // A patch before its row: fields, no pin; a deleted key keeping only its ids; frozen views.
      { row: { ...row, lines: [] } },
      { ids: { e3: 3 } },
      { row, pin, ids: { e1: 1 }, frozen: { daily_revenue_by_region: { row, pin }, product_sales_daily: null } },
    ];
    for (const state of states) {
      const text = encodeState(orders, state);
      expect(text.startsWith('["s1:')).toBe(true);
      expect(decodeState(orders, text)).toEqual(state);
    }
    expect(encodeState(orders, states[0]!).length).toBeLessThan(JSON.stringify(states[0]).length * 0.6);
  });

  it('falls back to object JSON for a row it cannot hold exactly, and reads the object JSON of earlier versions', () => {
    const extra: InstanceState = { row: { ...row, note: 'kept by a custom fold' }, pin };
    const missing: InstanceState = { row: { ...row, status: undefined as never }, pin };
    for (const state of [extra, missing]) {
      const text = encodeState(orders, state);
      expect(text).toBe(JSON.stringify(state));
      expect(decodeState(orders, text)).toEqual(JSON.parse(JSON.stringify(state)));
    }
    const earlier = JSON.stringify({ row, pin, ids: { e1: 1 } });
    expect(decodeState(orders, earlier)).toEqual({ row, pin, ids: { e1: 1 } });
  });

  it('refuses a state written for other fields, saying how to start over', () => {
    const text = encodeState(orders, { row, pin }).replace(/"s1:[^"]+"/, '"s1:other"');
    expect(() => decodeState(orders, text)).toThrow(DualrunError);
    expect(() => decodeState(orders, text)).toThrow(/written for other fields than the entity declares now/);
  });
});
