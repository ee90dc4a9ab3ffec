/**
 * customer_lifetime_value — per customer: orders, revenue in EUR, first and last order, with
 * cancellations taken off. A running aggregate over all time (not dated: the batch swaps the whole
 * table), where a cancellation retracts an order counted earlier (DESIGN.md section 4.3).
 *
 * Rules: one row per customer with at least one order (cancelled ones included); order_count,
 * revenue_eur, first_order_at and last_order_at cover orders not cancelled (NULL times when none);
 * cancelled_count counts cancelled ones; deleted orders count nowhere.
 */
import { BUSINESS_TIME_ZONE } from '../domain/time.ts';
import type { TransformContract } from './contract.ts';

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
