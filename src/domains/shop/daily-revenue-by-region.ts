/**
 * daily_revenue_by_region — net revenue in EUR and order count per business day (Europe/Stockholm)
 * and customer region. A windowed aggregate: one tumbling window per business day, final once the
 * watermark passes its end plus 30 minutes of grace; the nightly batch counts whatever arrived before
 * its 02:00 cut-off, so late events are where the two disagree (DESIGN.md sections 4.2, 4.3, 4.6).
 *
 * Rules: an order counts on the business day of placed_at, in its customer's region; cancelled and
 * deleted orders do not count; revenue_eur sums the orders' net_amount_eur (see orders_enriched).
 *
 * Batch: the not-cancelled orders placed on the run's business day (UTC bounds of the Stockholm day)
 * that arrived by the cut-off, in the region their customer has at run time. An order whose customer
 * row is gone counts in region 'unknown' (the key cannot be NULL, and nothing is dropped unrecorded);
 * an order without an FX rate counts in order_count and adds nothing to revenue_eur (its EUR is NULL).
 * A day/region with no orders has no row.
 */
import { aggregateBy, count, defineTransform, sumDecimal, type BatchContext, type TransformContract } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from './domain.ts';
import { businessDateLiteral, orderTotals } from './legacy-sql.ts';
import { amountInEur, orderNetAmount, rateToEur } from './rules.ts';

/** The region an order counts in when its customer row no longer exists. */
export const UNKNOWN_REGION = 'unknown';

export const dailyRevenueByRegionContract = {
  name: 'daily_revenue_by_region',
  description: 'Net revenue in EUR and order count per business day and region',
  key: ['business_date', 'region'],
  dateColumn: 'business_date',
  columns: [
    { name: 'business_date', type: 'date' },
    { name: 'region', type: 'string' },
    { name: 'order_count', type: 'integer' },
    { name: 'revenue_eur', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
  ],
  time: { eventTimeField: 'placedAt', window: 'day', graceMs: 30 * 60_000, timeZone: BUSINESS_TIME_ZONE },
} as const satisfies TransformContract;

// The streaming half: tumbling business-day windows by placed_at, 30 min grace, per customer region
// as it stood when the order was processed; an order whose customer is unknown then counts in 'unknown'.
export const dailyRevenueByRegionStream = aggregateBy(
  shop.from('orders', { joins: { customers: 'latest', fxRates: 'latest' }, filter: (order) => order.status !== 'cancelled' }),
  {
    flatMap: (order, ctx) => {
      const region = ctx.tables.get('customers', order.customerId)?.region ?? UNKNOWN_REGION;
      const revenue = amountInEur(orderNetAmount(order), rateToEur(order, ctx)) ?? '0.00';
      return [{ key: { business_date: ctx.dayOf(order.placedAt), region }, values: { revenue_eur: revenue } }];
    },
    window: { size: 'businessDay', graceMs: dailyRevenueByRegionContract.time.graceMs, eventTime: (order) => order.placedAt },
    aggregations: { order_count: count(), revenue_eur: sumDecimal('revenue_eur') },
  },
);

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  // Inlined, not bound: PostgreSQL matches a GROUP BY expression to the select list only when equal,
  // and two bindings of the same value are different parameters.
  const region = `COALESCE(c.region, '${UNKNOWN_REGION}')`;
  return knex
    .select(businessDateLiteral(ctx), knex.raw(`${region} AS region`))
    .select(knex.raw('COUNT(*) AS order_count'), knex.raw('COALESCE(SUM(e.net_amount_eur), 0) AS revenue_eur'))
    .from(orderTotals(ctx, 'run-date', dailyRevenueByRegionContract.time.timeZone).as('e'))
    .leftJoin('customers as c', 'c.customer_id', 'e.customer_id')
    .where('e.status', '<>', 'cancelled')
    .groupBy(knex.raw(region));
}

export const dailyRevenueByRegion = defineTransform({ ...dailyRevenueByRegionContract, batch, stream: dailyRevenueByRegionStream });
