/**
 * orders_enriched — each order with its customer's region and tier, its net amount in its own
 * currency and in EUR. Batch joins the customer row as it stands at run time; a stream joins the
 * customer as it was when the order was processed: the classic difference (DESIGN.md section 4.1).
 *
 * Rules both halves implement: line net = round(quantity × unit_price × (1 − discount_pct/100), 2);
 * order net_amount = sum of line nets; net_amount_eur = round(net_amount × rate, 2) with the rate of
 * the order currency on the order's business date (EUR is 1; no rate → NULL). Deleted orders are absent;
 * cancelled orders are kept (their status is order_status_current's business).
 *
 * Batch: the orders placed on the run's business day (UTC bounds of the Stockholm day) that arrived by
 * the cut-off, their lines summed, left-joined to the customer row as it stands at run time (a deleted
 * customer gives NULL region and tier), the FX rate of the currency on the business day.
 */
import { defineTransform, upsertPerKey, type BatchContext, type TransformContract } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from './domain.ts';
import { businessDateLiteral, orderTotals } from './legacy-sql.ts';
import { amountInEur, orderNetAmount, rateToEur } from './rules.ts';

export const ordersEnrichedContract = {
  name: 'orders_enriched',
  description: "Each order with its customer's region and tier and its net amount in its currency and in EUR",
  key: ['order_id'],
  dateColumn: 'business_date',
  columns: [
    { name: 'order_id', type: 'string' },
    { name: 'business_date', type: 'date', description: 'Europe/Stockholm date of placed_at' },
    { name: 'customer_id', type: 'string' },
    { name: 'placed_at', type: 'timestamp', rule: { precision: 'ms' } },
    { name: 'currency', type: 'string' },
    { name: 'region', type: 'string', nullable: true },
    { name: 'tier', type: 'string', nullable: true },
    { name: 'line_count', type: 'integer' },
    { name: 'net_amount', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
    { name: 'net_amount_eur', type: 'decimal', scale: 2, nullable: true, rule: { abs: 0.005 } },
  ],
  time: { eventTimeField: 'placedAt', window: 'none', graceMs: 0, timeZone: BUSINESS_TIME_ZONE },
} as const satisfies TransformContract;

// The streaming half: one row per order, joined to the customer and the FX rate as they stood when
// the order was processed (arrival order), upserted by order id; a delete removes the row.
export const ordersEnrichedStream = upsertPerKey(shop.from('orders', { joins: { customers: 'latest', fxRates: 'latest' } }), (order, ctx) => {
  const customer = ctx.tables.get('customers', order.customerId);
  const netAmount = orderNetAmount(order);
  return {
    order_id: order.orderId,
    business_date: ctx.dayOf(order.placedAt),
    customer_id: order.customerId,
    placed_at: order.placedAt,
    currency: order.currency,
    region: customer?.region ?? null,
    tier: customer?.tier ?? null,
    line_count: order.lines.length,
    net_amount: netAmount,
    net_amount_eur: amountInEur(netAmount, rateToEur(order, ctx)),
  };
});

function batch(ctx: BatchContext) {
  return ctx.knex
    .select('e.order_id', businessDateLiteral(ctx), 'e.customer_id', 'e.placed_at', 'e.currency', 'c.region', 'c.tier', 'e.line_count', 'e.net_amount', 'e.net_amount_eur')
    .from(orderTotals(ctx, 'run-date', ordersEnrichedContract.time.timeZone).as('e'))
    .leftJoin('customers as c', 'c.customer_id', 'e.customer_id');
}

export const ordersEnriched = defineTransform({ ...ordersEnrichedContract, batch, stream: ordersEnrichedStream });
