// The fold of committed transactions (Debezium change events) into the domain's events, on the shop:
// a parent and its child rows become one event, each change the declared event type it amounts to.
import { describe, expect, it } from 'vitest';
import { ChangeFolder } from '../../src/model/cdc.ts';
import type { DebeziumChange } from '../../src/model/debezium.ts';
import { shop } from '../../src/domains/shop/index.ts';

let lsn = 1000;
function change(table: string, op: DebeziumChange['op'], image: Record<string, unknown>): DebeziumChange {
  lsn += 8;
  return { op, image, table, position: `lsn:${lsn}`, committedAt: '2026-01-01T00:00:00.000Z', transaction: '1', order: lsn };
}

const order = { order_id: 'O1', customer_id: 'C1', currency: 'EUR', placed_at: '2024-06-03T07:15:00.000000Z', status: 'placed', created_at: '2024-06-03T07:16:00.000Z', updated_at: '2024-06-03T07:16:00.000Z' };
const line = (lineNo: number, quantity: number) => ({ order_id: 'O1', line_no: lineNo, product_id: 'P1', quantity, unit_price: '20.00', discount_pct: '0.00' });

describe('ChangeFolder', () => {
  it('an order and its lines in one transaction are one OrderPlaced carrying the lines, arriving at updated_at', () => {
    const folder = new ChangeFolder(shop);
    const { deliveries, problems } = folder.applyTransaction([change('orders', 'c', order), change('order_lines', 'c', line(2, 1)), change('order_lines', 'c', line(1, 2))]);
    expect(problems).toEqual([]);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.arrivalTime).toBe('2024-06-03T07:16:00.000Z');
    expect(deliveries[0]!.event).toMatchObject({
      type: 'OrderPlaced',
      eventTime: '2024-06-03T07:15:00.000Z',
      payload: { orderId: 'O1', customerId: 'C1', currency: 'EUR', placedAt: '2024-06-03T07:15:00.000Z', lines: [{ lineNo: 1, productId: 'P1', quantity: 2, unitPrice: '20.00', discountPct: '0.00' }, { lineNo: 2, productId: 'P1', quantity: 1, unitPrice: '20.00', discountPct: '0.00' }] },
    });
    expect(deliveries[0]!.event.payload).not.toHaveProperty('status');
  });

  it('an order without its lines yet is no event (its transaction is not whole)', () => {
    const folder = new ChangeFolder(shop);
    expect(folder.applyTransaction([change('orders', 'c', order)]).deliveries).toEqual([]);
    expect(folder.applyTransaction([change('order_lines', 'c', line(1, 2))]).deliveries.map((d) => d.event.type)).toEqual(['OrderPlaced']);
  });

  it('a status update is OrderStatusChanged; the delete of the order and its lines is OrderDeleted; ids follow the source position', () => {
    const folder = new ChangeFolder(shop);
    folder.applyTransaction([change('orders', 'c', order), change('order_lines', 'c', line(1, 2))]);
    const paid = folder.applyTransaction([change('orders', 'u', { ...order, status: 'paid', updated_at: '2024-06-03T08:00:00.000Z' })]).deliveries;
    expect(paid.map((d) => [d.event.type, d.event.payload, d.arrivalTime])).toEqual([['OrderStatusChanged', { orderId: 'O1', status: 'paid' }, '2024-06-03T08:00:00.000Z']]);
    expect(paid[0]!.event.eventId).toBe(`cdc:lsn:${lsn}:orders:O1:0`);
    // The table keeps no time of the status change but when it was written.
    expect(paid[0]!.event.eventTime).toBe('2024-06-03T08:00:00.000Z');
    const deleted = folder.applyTransaction([change('order_lines', 'd', { order_id: 'O1', line_no: 1 }), change('orders', 'd', { order_id: 'O1' })]).deliveries;
    expect(deleted.map((d) => [d.event.type, d.event.payload])).toEqual([['OrderDeleted', { orderId: 'O1' }]]);
    // A delete carries no arrival column: it arrives with the last write before it.
    expect(deleted[0]!.arrivalTime).toBe('2024-06-03T08:00:00.000Z');
  });

  it('an order that first appears already paid (a snapshot) is OrderPlaced then OrderStatusChanged', () => {
    const folder = new ChangeFolder(shop);
    const { deliveries } = folder.applyTransaction([change('orders', 'r', { ...order, status: 'paid' }), change('order_lines', 'r', line(1, 2))]);
    expect(deliveries.map((d) => [d.event.type, d.event.eventId.endsWith(':0') || d.event.eventId.endsWith(':1')])).toEqual([['OrderPlaced', true], ['OrderStatusChanged', true]]);
  });

  it('a customer update is CustomerUpserted (the shop declares no patch of customers); a change of no table of the domain is a problem', () => {
    const folder = new ChangeFolder(shop);
    const customer = { customer_id: 'C1', name: 'Ada', region: 'north', tier: 'gold', created_at: '2024-06-01T00:00:00.000Z', updated_at: '2024-06-01T00:00:00.000Z' };
    folder.applyTransaction([change('customers', 'c', customer)]);
    const moved = folder.applyTransaction([change('customers', 'u', { ...customer, region: 'south' }), change('invoices', 'c', { id: 1 })]);
    expect(moved.deliveries.map((d) => [d.event.type, d.event.payload])).toEqual([['CustomerUpserted', { customerId: 'C1', name: 'Ada', region: 'south', tier: 'gold' }]]);
    expect(moved.problems.map((p) => p.reason)).toEqual(['table invoices is none of the shop domain\'s tables']);
  });
});
