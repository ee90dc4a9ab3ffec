/**
 * order_status_current — the current status of each order; deleted orders absent. The legacy table
 * is overwritten in place and rows are hard-deleted, so a poller sees only the end state; the stream
 * folds every status event and tombstone (DESIGN.md section 4.5). Not dated: the batch swaps the table.
 *
 * Batch: every order row that arrived by the cut-off, as it stands at run time (hard-deleted rows are
 * simply gone, which is all a poller can know).
 */
import { defineTransform, upsertPerKey, type BatchContext, type TransformContract } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from './domain.ts';
import { visibleOrders } from './legacy-sql.ts';

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
export const orderStatusCurrentStream = upsertPerKey(shop.from('orders'), (order) => ({
  order_id: order.orderId,
  customer_id: order.customerId,
  status: order.status,
}));

function batch(ctx: BatchContext) {
  return visibleOrders(ctx.knex.select('o.order_id', 'o.customer_id', 'o.status').from('orders as o'), ctx);
}

export const orderStatusCurrent = defineTransform({ ...orderStatusCurrentContract, batch, stream: orderStatusCurrentStream });
