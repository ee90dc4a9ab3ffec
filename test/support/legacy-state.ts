/**
 * Reads the legacy tables back in the shape of `foldLegacyState` (decimals as strings at their scale,
 * dates "YYYY-MM-DD", instants ISO UTC with milliseconds), whatever the engine's driver returns.
 */
import type { Knex } from 'knex';
import { fromUnits, toUnits } from '../../src/decimal.ts';
import type { LegacyState } from './shop-legacy-fold.ts';

const instant = (value: unknown): string => (value instanceof Date ? value : new Date(String(value))).toISOString();
const decimal = (value: unknown, scale: number): string => fromUnits(toUnits(String(value), scale), scale);
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export async function readLegacyState(db: Knex): Promise<LegacyState> {
  const mysql = String(db.client.config.client).includes('mysql');
  const rateDate = mysql ? "DATE_FORMAT(rate_date, '%Y-%m-%d')" : "to_char(rate_date, 'YYYY-MM-DD')";
  const customers = (await db('customers').select('*')).map((row) => ({
    customer_id: row.customer_id, name: row.name, region: row.region, tier: row.tier, created_at: instant(row.created_at), updated_at: instant(row.updated_at),
  }));
  const products = (await db('products').select('*')).map((row) => ({
    product_id: row.product_id, name: row.name, category: row.category, price: decimal(row.price, 2), currency: row.currency, updated_at: instant(row.updated_at),
  }));
  const fxRates = (await db('fx_rates').select('currency', db.raw(`${rateDate} as rate_date`), 'rate_to_eur', 'updated_at')).map((row) => ({
    currency: row.currency, rate_date: row.rate_date, rate_to_eur: decimal(row.rate_to_eur, 8), updated_at: instant(row.updated_at),
  }));
  const orders = (await db('orders').select('*')).map((row) => ({
    order_id: row.order_id, customer_id: row.customer_id, currency: row.currency, status: row.status, placed_at: instant(row.placed_at), created_at: instant(row.created_at), updated_at: instant(row.updated_at),
  }));
  const lines = (await db('order_lines').select('*')).map((row) => ({
    order_id: row.order_id, line_no: Number(row.line_no), product_id: row.product_id, quantity: Number(row.quantity), unit_price: decimal(row.unit_price, 2), discount_pct: decimal(row.discount_pct, 2),
  }));
  return {
    customers: customers.sort((a, b) => byText(a.customer_id, b.customer_id)),
    products: products.sort((a, b) => byText(a.product_id, b.product_id)),
    fx_rates: fxRates.sort((a, b) => byText(`${a.currency}:${a.rate_date}`, `${b.currency}:${b.rate_date}`)),
    orders: orders.sort((a, b) => byText(a.order_id, b.order_id)),
    order_lines: lines.sort((a, b) => byText(a.order_id, b.order_id) || a.line_no - b.line_no),
  };
}
