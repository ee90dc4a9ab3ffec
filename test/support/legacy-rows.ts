/** Writes rows straight into the legacy tables (after createDomainSchema), for batch tests that need no scenario. */
import type { Knex } from 'knex';

export interface OrderRow {
  id: string;
  customer: string;
  currency: 'EUR' | 'SEK' | 'USD';
  status: 'placed' | 'paid' | 'shipped' | 'cancelled';
  placedAt: string;
  /** Arrival; default one minute after placedAt. */
  createdAt?: string;
  /** [product, quantity, unit price, discount %] */
  lines: [string, number, string, string][];
}

export async function insertCustomers(db: Knex, customers: [id: string, region: string, tier: string][]): Promise<void> {
  const at = new Date('2024-01-01T00:00:00Z');
  await db('customers').insert(customers.map(([customer_id, region, tier]) => ({ customer_id, name: customer_id, region, tier, created_at: at, updated_at: at })));
}

export async function insertProducts(db: Knex, products: [id: string, category: string][]): Promise<void> {
  const at = new Date('2024-01-01T00:00:00Z');
  await db('products').insert(products.map(([product_id, category]) => ({ product_id, name: product_id, category, price: '1.00', currency: 'EUR', updated_at: at })));
}

export async function insertRates(db: Knex, rates: [currency: string, date: string, rate: string][]): Promise<void> {
  const at = new Date('2024-01-01T00:00:00Z');
  await db('fx_rates').insert(rates.map(([currency, rate_date, rate_to_eur]) => ({ currency, rate_date, rate_to_eur, updated_at: at })));
}

export async function insertOrders(db: Knex, orders: OrderRow[]): Promise<void> {
  for (const order of orders) {
    const placedAt = new Date(order.placedAt);
    const createdAt = order.createdAt ? new Date(order.createdAt) : new Date(placedAt.getTime() + 60_000);
    await db('orders').insert({ order_id: order.id, customer_id: order.customer, currency: order.currency, status: order.status, placed_at: placedAt, created_at: createdAt, updated_at: createdAt });
    await db('order_lines').insert(order.lines.map(([product_id, quantity, unit_price, discount_pct], index) => ({ order_id: order.id, line_no: index + 1, product_id, quantity, unit_price, discount_pct })));
  }
}
