/**
 * customer_lifetime_value — per customer: orders, revenue in EUR, first and last order, with
 * cancellations taken off. A running aggregate over all time (not dated: the batch swaps the whole
 * table), where a cancellation retracts an order counted earlier (DESIGN.md section 4.3).
 *
 * Rules: one row per customer with at least one order (cancelled ones included); order_count,
 * revenue_eur, first_order_at and last_order_at cover orders not cancelled (NULL times when none);
 * cancelled_count counts cancelled ones; deleted orders count nowhere.
 *
 * Batch: every order that arrived by the cut-off (cancelled ones included), its lines summed and
 * converted at the FX rate of its own business day (computed in SQL per order), grouped by customer.
 * An order without an FX rate counts in order_count and adds nothing to revenue_eur.
 */
import { aggregateBy, defineTransform, max, min, sumDecimal, sumInteger, type BatchContext, type TransformContract } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from './domain.ts';
import { orderTotals } from './legacy-sql.ts';
import { amountInEur, orderNetAmount, rateToEur } from './rules.ts';

export const customerLifetimeValueContract = {
  name: 'customer_lifetime_value',
  description: 'Per customer: orders, EUR revenue, first and last order, cancellations taken off',
  key: ['customer_id'],
  columns: [
    { name: 'customer_id', type: 'string' },
    { name: 'order_count', type: 'integer' },
    { name: 'cancelled_count', type: 'integer' },
    { name: 'revenue_eur', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
    { name: 'first_order_at', type: 'timestamp', nullable: true, rule: { precision: 'ms' } },
    { name: 'last_order_at', type: 'timestamp', nullable: true, rule: { precision: 'ms' } },
  ],
  time: { eventTimeField: 'placedAt', window: 'none', graceMs: 0, timeZone: BUSINESS_TIME_ZONE },
} as const satisfies TransformContract;

// The streaming half: a running aggregate per customer. Each order contributes one entry; when it is
// cancelled its entry moves from the order counts to cancelled_count, when deleted it is retracted.
export const customerLifetimeValueStream = aggregateBy(shop.from('orders', { joins: { fxRates: 'latest' } }), {
  flatMap: (order, ctx) => {
    const active = order.status !== 'cancelled';
    const placedAt = order.placedAt;
    return [
      {
        key: { customer_id: order.customerId },
        values: {
          order_count: active ? 1 : 0,
          cancelled_count: active ? 0 : 1,
          revenue_eur: active ? (amountInEur(orderNetAmount(order), rateToEur(order, ctx)) ?? '0.00') : '0.00',
          first_order_at: active ? placedAt : null,
          last_order_at: active ? placedAt : null,
        },
      },
    ];
  },
  aggregations: {
    order_count: sumInteger('order_count'),
    cancelled_count: sumInteger('cancelled_count'),
    revenue_eur: sumDecimal('revenue_eur'),
    first_order_at: min('first_order_at'),
    last_order_at: max('last_order_at'),
  },
});

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  const kept = "e.status <> 'cancelled'";
  return knex
    .select('e.customer_id')
    .select(knex.raw(`SUM(CASE WHEN ${kept} THEN 1 ELSE 0 END) AS order_count`))
    .select(knex.raw("SUM(CASE WHEN e.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled_count"))
    .select(knex.raw(`COALESCE(SUM(CASE WHEN ${kept} THEN e.net_amount_eur END), 0) AS revenue_eur`))
    .select(knex.raw(`MIN(CASE WHEN ${kept} THEN e.placed_at END) AS first_order_at`))
    .select(knex.raw(`MAX(CASE WHEN ${kept} THEN e.placed_at END) AS last_order_at`))
    .from(orderTotals(ctx, 'each-order', customerLifetimeValueContract.time.timeZone).as('e'))
    .groupBy('e.customer_id');
}

export const customerLifetimeValue = defineTransform({ ...customerLifetimeValueContract, batch, stream: customerLifetimeValueStream });
