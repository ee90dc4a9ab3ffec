/**
 * Outputs of handWorkedExample() (test/support/events.ts), worked out by hand:
 * - o1: 2 × 100.00 − 10 % = 180.00 and 1 × 50.00 = 50.00 → 230.00 SEK; × 0.087 = 20.01 EUR
 *   (lines: 15.66 + 4.35). Joined to c1 as north (the move to south arrives later).
 * - o2 (22:30Z = 23:30 CET on 27 Oct, the DST-end day: 25 h long, ends 23:00Z) is north; its
 *   cancellation arrives 00:20Z on the 28th, after o3 (event time 00:10Z ≥ 23:00Z + 30 min grace)
 *   closed the 27th: late for the day windows, applied to the running CLV.
 * - o3 (28 Oct) and o4, o6 are joined to c1 as south; o4 (27 Oct) arrives after the window closed: late.
 * - o5's customer is unknown (region/tier NULL) and it is deleted: no rows. o6 is cancelled while its window is open.
 * - o1's redelivery is dropped by dedupe.
 */
export const expectedHandWorked: Record<string, Record<string, Record<string, unknown>>> = {
  orders_enriched: {
    '["o1"]': { order_id: 'o1', business_date: '2024-10-27', customer_id: 'c1', placed_at: '2024-10-27T10:00:00.000Z', currency: 'SEK', region: 'north', tier: 'gold', line_count: 2, net_amount: '230.00', net_amount_eur: '20.01' },
    '["o2"]': { order_id: 'o2', business_date: '2024-10-27', customer_id: 'c1', placed_at: '2024-10-27T22:30:00.000Z', currency: 'EUR', region: 'north', tier: 'gold', line_count: 1, net_amount: '10.00', net_amount_eur: '10.00' },
    '["o3"]': { order_id: 'o3', business_date: '2024-10-28', customer_id: 'c1', placed_at: '2024-10-28T00:10:00.000Z', currency: 'EUR', region: 'south', tier: 'gold', line_count: 1, net_amount: '15.00', net_amount_eur: '15.00' },
    '["o4"]': { order_id: 'o4', business_date: '2024-10-27', customer_id: 'c1', placed_at: '2024-10-27T12:00:00.000Z', currency: 'EUR', region: 'south', tier: 'gold', line_count: 1, net_amount: '7.00', net_amount_eur: '7.00' },
    '["o6"]': { order_id: 'o6', business_date: '2024-10-28', customer_id: 'c1', placed_at: '2024-10-28T08:00:00.000Z', currency: 'EUR', region: 'south', tier: 'gold', line_count: 1, net_amount: '2.00', net_amount_eur: '2.00' },
  },
  order_status_current: {
    '["o1"]': { order_id: 'o1', customer_id: 'c1', status: 'placed' },
    '["o2"]': { order_id: 'o2', customer_id: 'c1', status: 'cancelled' },
    '["o3"]': { order_id: 'o3', customer_id: 'c1', status: 'placed' },
    '["o4"]': { order_id: 'o4', customer_id: 'c1', status: 'placed' },
    '["o6"]': { order_id: 'o6', customer_id: 'c1', status: 'cancelled' },
  },
  daily_revenue_by_region: {
    '["2024-10-27","north"]': { business_date: '2024-10-27', region: 'north', order_count: 2, revenue_eur: '30.01' },
    '["2024-10-28","south"]': { business_date: '2024-10-28', region: 'south', order_count: 1, revenue_eur: '15.00' },
  },
  customer_lifetime_value: {
    '["c1"]': { customer_id: 'c1', order_count: 3, cancelled_count: 2, revenue_eur: '42.01', first_order_at: '2024-10-27T10:00:00.000Z', last_order_at: '2024-10-28T00:10:00.000Z' },
  },
  product_sales_daily: {
    '["2024-10-27","p1"]': { business_date: '2024-10-27', product_id: 'p1', category: 'tools', units: 3, order_count: 2, revenue_eur: '25.66' },
    '["2024-10-27","p2"]': { business_date: '2024-10-27', product_id: 'p2', category: 'toys', units: 1, order_count: 1, revenue_eur: '4.35' },
    '["2024-10-28","p2"]': { business_date: '2024-10-28', product_id: 'p2', category: 'toys', units: 3, order_count: 1, revenue_eur: '15.00' },
  },
};
export const expectedHandWorkedLate = 4;
export const expectedHandWorkedDuplicates = 1;
