/**
 * product_sales_daily — units, revenue in EUR and orders per product per business day. Counts order
 * lines, so a redelivered order event double-counts unless the stream deduplicates by event id
 * (DESIGN.md section 4.4).
 *
 * Rules: lines of orders placed on the business day, not cancelled, not deleted; category is the
 * product's category; revenue_eur sums round(line net × rate, 2) per line (rate as in orders_enriched);
 * order_count counts distinct orders.
 */
import { BUSINESS_TIME_ZONE } from '../domain/time.ts';
import type { TransformContract } from './contract.ts';

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
