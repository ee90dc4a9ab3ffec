/**
 * The example shop, declared once: customers (who move between regions and tiers, and are hard-deleted),
 * a product catalogue, daily FX rates, and orders with their lines whose status is overwritten in place
 * and which are hard-deleted too. Business days are Stockholm days. The legacy schema, the scenario
 * files, the event payloads, the topics and the stream sources all come from this declaration; it uses
 * nothing the public API does not give every user.
 */
import { fileURLToPath } from 'node:url';
import { defineDomain, field, hardDelete, patch, upsert } from 'dualrun';

export const REGIONS = ['north', 'south', 'east', 'west'] as const;
export const TIERS = ['standard', 'silver', 'gold'] as const;
export const CURRENCIES = ['EUR', 'SEK', 'USD'] as const;
export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'cancelled'] as const;
export const BUSINESS_TIME_ZONE = 'Europe/Stockholm';

const money = () => field.decimal(2, { precision: 12, min: 0 });

export const shop = defineDomain({
  name: 'shop',
  timeZone: BUSINESS_TIME_ZONE,
  scenarios: fileURLToPath(new URL('../../../fixtures/', import.meta.url)),
  demo: 'customer-moves',
  generate: async () => (await import('./generate.ts')).generateShopScenario,
  entities: {
    customers: {
      key: ['customerId'],
      fields: { customerId: field.id(), name: field.text(), region: field.enum(REGIONS), tier: field.enum(TIERS) },
      table: { name: 'customers', createdAt: 'created_at', updatedAt: 'updated_at' },
      events: { CustomerUpserted: upsert(), CustomerDeleted: hardDelete() },
    },
    products: {
      key: ['productId'],
      fields: { productId: field.id(), name: field.text(), category: field.text({ maxLength: 64 }), price: money(), currency: field.enum(CURRENCIES) },
      table: { name: 'products', updatedAt: 'updated_at' },
      events: { ProductUpserted: upsert() },
    },
    /** How many EUR one unit of `currency` was worth on `rateDate` (EUR itself is always 1). */
    fxRates: {
      key: ['currency', 'rateDate'],
      fields: { currency: field.enum(CURRENCIES), rateDate: field.date(), rateToEur: field.decimal(8, { precision: 18, min: 0 }) },
      table: { name: 'fx_rates', updatedAt: 'updated_at' },
      events: { FxRateSet: upsert() },
    },
    orders: {
      key: ['orderId'],
      fields: {
        orderId: field.id(),
        customerId: field.id(),
        currency: field.enum(CURRENCIES),
        /** When the customer placed it: the order's event time. */
        placedAt: field.instant(),
        status: field.enum(ORDER_STATUSES, { initial: 'placed' }),
      },
      children: {
        lines: {
          key: ['lineNo'],
          fields: {
            lineNo: field.integer({ min: 1 }),
            productId: field.id(),
            quantity: field.integer({ min: 1 }),
            unitPrice: money(),
            /** Percent off the line, 0-100. */
            discountPct: field.decimal(2, { precision: 5, min: 0, max: 100 }),
          },
          table: { name: 'order_lines', indexes: [['productId']] },
          min: 1,
        },
      },
      eventTime: 'placedAt',
      // created_at is the arrival time: when the application wrote the row.
      table: { name: 'orders', createdAt: 'created_at', updatedAt: 'updated_at', indexes: [['customerId'], ['placedAt']] },
      events: { OrderPlaced: upsert({ omit: ['status'] }), OrderStatusChanged: patch('status'), OrderDeleted: hardDelete() },
    },
  },
});

export type Shop = typeof shop;
