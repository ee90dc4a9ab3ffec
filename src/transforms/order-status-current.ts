/**
 * order_status_current — the current status of each order; deleted orders absent. The legacy table
 * is overwritten in place and rows are hard-deleted, so a poller sees only the end state; the stream
 * folds every status event and tombstone (DESIGN.md section 4.5). Not dated: the batch swaps the table.
 */
import { BUSINESS_TIME_ZONE } from '../domain/time.ts';
import type { TransformContract } from './contract.ts';
import { fromOrders, upsertPerOrder } from './stream-dsl.ts';

export const orderStatusCurrentContract = {
  name: 'order_status_current',
  description: 'The current status of each order, deleted orders absent',
  key: ['order_id'],
  columns: [
    { name: 'order_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'status', type: 'string' },
  ],
  time: { eventTimeField: 'eventTime', window: 'none', graceMs: 0, timeZone: BUSINESS_TIME_ZONE },
} as const satisfies TransformContract;

// The streaming half: folds every status event and tombstone of an order; a delete removes the row.
export const orderStatusCurrentStream = upsertPerOrder(fromOrders(), ({ order, status }) => ({
  order_id: order.orderId,
  customer_id: order.customerId,
  status,
}));
