/**
 * product_sales_daily — units, revenue in EUR and orders per product per business day. Counts order
 * lines, so a redelivered order event double-counts unless the stream deduplicates by event id
 * (DESIGN.md section 4.4).
 *
 * Rules: lines of orders placed on the business day, not cancelled, not deleted; category is the
 * product's category; revenue_eur sums round(line net × rate, 2) per line (rate as in orders_enriched);
 * order_count counts distinct orders.
 *
 * Batch: the lines of the not-cancelled orders placed on the run's business day (UTC bounds of the
 * Stockholm day) that arrived by the cut-off, per product, with the product's category at run time
 * (NULL when the product row is missing). A line without an FX rate adds its units and order but
 * nothing to revenue_eur.
 */
import { aggregateBy, count, defineTransform, fromUnits, latest, sumDecimal, sumInteger, toUnits, type BatchContext, type TransformContract } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from './domain.ts';
import { EUR_RATE, LINE_NET, businessDateLiteral, placedOnBusinessDay, visibleOrders } from './legacy-sql.ts';
import { MONEY_SCALE, amountInEur, lineNetAmount, rateToEur } from './rules.ts';

export const productSalesDailyContract = {
  name: 'product_sales_daily',
  description: 'Units, EUR revenue and orders per product per business day',
  key: ['business_date', 'product_id'],
  dateColumn: 'business_date',
  columns: [
    { name: 'business_date', type: 'date' },
    { name: 'product_id', type: 'string' },
    { name: 'category', type: 'string', nullable: true },
    { name: 'units', type: 'integer' },
    { name: 'order_count', type: 'integer' },
    { name: 'revenue_eur', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
  ],
  time: { eventTimeField: 'placedAt', window: 'day', graceMs: 30 * 60_000, timeZone: BUSINESS_TIME_ZONE },
} as const satisfies TransformContract;

// The streaming half: per order, its lines grouped by product (units, EUR revenue line by line);
// deduplicated by event id so a redelivered order counts once; tumbling business-day windows.
export const productSalesDailyStream = aggregateBy(
  shop.from('orders', { joins: { products: 'latest', fxRates: 'latest' }, filter: (order) => order.status !== 'cancelled' }),
  {
    flatMap: (order, ctx) => {
      const rate = rateToEur(order, ctx);
      const businessDate = ctx.dayOf(order.placedAt);
      const perProduct = new Map<string, { units: number; cents: bigint }>();
      for (const line of order.lines) {
        const lineEur = amountInEur(lineNetAmount(line), rate) ?? '0.00';
        let entry = perProduct.get(line.productId);
        if (!entry) perProduct.set(line.productId, (entry = { units: 0, cents: 0n }));
        entry.units += line.quantity;
        entry.cents += toUnits(lineEur, MONEY_SCALE);
      }
      // A loop, not a spread and a map: this runs for both views of every order event.
      const contributions = [];
      for (const [productId, { units, cents }] of perProduct) {
        contributions.push({
          key: { business_date: businessDate, product_id: productId },
          values: { category: ctx.tables.get('products', productId)?.category ?? null, units, revenue_eur: fromUnits(cents, MONEY_SCALE) },
        });
      }
      return contributions;
    },
    window: { size: 'businessDay', graceMs: productSalesDailyContract.time.graceMs, eventTime: (order) => order.placedAt },
    aggregations: { category: latest('category'), units: sumInteger('units'), order_count: count(), revenue_eur: sumDecimal('revenue_eur') },
  },
);

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  const query = knex
    .select(businessDateLiteral(ctx), 'l.product_id', 'p.category')
    .select(knex.raw('SUM(l.quantity) AS units'), knex.raw('COUNT(DISTINCT l.order_id) AS order_count'))
    .select(knex.raw(`COALESCE(SUM(ROUND(${LINE_NET} * ${EUR_RATE}, 2)), 0) AS revenue_eur`))
    .from('orders as o')
    .join('order_lines as l', 'l.order_id', 'o.order_id')
    .leftJoin('products as p', 'p.product_id', 'l.product_id')
    .leftJoin('fx_rates as fx', (on) => on.on('fx.currency', 'o.currency').andOn('fx.rate_date', '=', knex.raw('CAST(? AS DATE)', [ctx.businessDate])))
    .where('o.status', '<>', 'cancelled')
    .groupBy('l.product_id', 'p.category');
  return placedOnBusinessDay(visibleOrders(query, ctx), ctx);
}

export const productSalesDaily = defineTransform({ ...productSalesDailyContract, batch, stream: productSalesDailyStream });
