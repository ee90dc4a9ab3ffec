/**
 * daily_revenue_by_region — net revenue in EUR and order count per business day (Europe/Stockholm)
 * and customer region. A windowed aggregate: one tumbling window per business day, final once the
 * watermark passes its end plus 30 minutes of grace; the nightly batch counts whatever arrived before
 * its 02:00 cut-off, so late events are where the two disagree (DESIGN.md sections 4.2, 4.3, 4.6).
 *
 * Rules: an order counts on the business day of placed_at, in its customer's region; cancelled and
 * deleted orders do not count; revenue_eur sums the orders' net_amount_eur (see orders_enriched).
 */
import { BUSINESS_TIME_ZONE } from '../domain/time.ts';
import type { TransformContract } from './contract.ts';

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
