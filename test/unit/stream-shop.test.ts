// The shop's streaming rules: net amounts are memoised on the order's lines without leaking into
// copies or JSON, and work on frozen objects too.
import { describe, expect, it } from 'vitest';
import { lineNetAmount, orderNetAmount, type Order } from '../../src/domains/shop/index.ts';

const order = (): Order => ({
  orderId: 'o1',
  customerId: 'c1',
  currency: 'EUR',
  placedAt: '2024-10-27T10:00:00.000Z',
  status: 'placed',
  lines: [
    { lineNo: 1, productId: 'p1', quantity: 2, unitPrice: '100.00', discountPct: '10' },
    { lineNo: 2, productId: 'p2', quantity: 1, unitPrice: '50.00', discountPct: '0' },
  ],
});

describe('net amounts', () => {
  it('are worked out once per order and stay out of its JSON', () => {
    const placed = order();
    expect(orderNetAmount(placed)).toBe('230.00');
    expect(orderNetAmount(placed)).toBe('230.00');
    expect(JSON.parse(JSON.stringify(placed))).toEqual(order());
  });

  it('are not inherited by a copy with other lines', () => {
    const placed = order();
    expect(orderNetAmount(placed)).toBe('230.00');
    const firstLineOnly = { ...placed, lines: placed.lines.slice(0, 1) };
    expect(orderNetAmount(firstLineOnly)).toBe('180.00');
    const cheaper = { ...placed.lines[1]!, unitPrice: '40.00' };
    expect(lineNetAmount(placed.lines[1]!)).toBe('50.00');
    expect(lineNetAmount(cheaper)).toBe('40.00');
  });

  it('work on frozen objects', () => {
    const frozen = Object.freeze({ ...order(), lines: order().lines.map((line) => Object.freeze(line)) });
    expect(orderNetAmount(frozen)).toBe('230.00');
  });
});

