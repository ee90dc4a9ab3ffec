/**
 * The shop's legacy tables as they must look after a replay, computed the plainest way and written out
 * by hand for the shop (not derived from its declaration): every event applied in arrival order, one at
 * a time, in memory. Replay's batched SQL, which derives everything from the domain declaration, must
 * end in exactly this state; tests compare the two (a second, independent statement of the same rules).
 * Values are in the shape the project writes rows everywhere: decimals as strings at their scale, dates
 * "YYYY-MM-DD", instants ISO UTC with milliseconds. Rows are sorted by primary key.
 */
import { fromUnits, toUnits } from '../../src/decimal.ts';
import type { ScenarioEvent } from '../../src/scenario/load.ts';

const MONEY_SCALE = 2;
const RATE_SCALE = 8;
/** The shop's payload fields (a line's quantity and number are numbers; every other field a string). */
type Payload = { [F in 'customerId' | 'name' | 'region' | 'tier' | 'productId' | 'category' | 'price' | 'currency' | 'rateDate' | 'rateToEur' | 'orderId' | 'placedAt' | 'status']: string } & { lines: { lineNo: number; productId: string; quantity: number; unitPrice: string; discountPct: string }[] };

export interface LegacyState {
  customers: { customer_id: string; name: string; region: string; tier: string; created_at: string; updated_at: string }[];
  products: { product_id: string; name: string; category: string; price: string; currency: string; updated_at: string }[];
  fx_rates: { currency: string; rate_date: string; rate_to_eur: string; updated_at: string }[];
  orders: { order_id: string; customer_id: string; currency: string; status: string; placed_at: string; created_at: string; updated_at: string }[];
  order_lines: { order_id: string; line_no: number; product_id: string; quantity: number; unit_price: string; discount_pct: string }[];
}

export const scaled = (value: string, scale: number): string => fromUnits(toUnits(value, scale), scale);

export function foldLegacyState(events: ScenarioEvent[]): LegacyState {
  const customers = new Map<string, LegacyState['customers'][number]>();
  const products = new Map<string, LegacyState['products'][number]>();
  const fxRates = new Map<string, LegacyState['fx_rates'][number]>();
  const orders = new Map<string, LegacyState['orders'][number]>();
  const lines = new Map<string, LegacyState['order_lines']>();
  /** A status change that came before its order: the order starts with it (the two may arrive out of order). */
  const pendingStatus = new Map<string, string>();
  for (const { event, arrivalTime: at, redelivery } of events) {
    if (redelivery) continue;
    const payload = event.payload as Payload;
    switch (event.type) {
      case 'CustomerUpserted': {
        const { customerId, name, region, tier } = payload;
        customers.set(customerId, { customer_id: customerId, name, region, tier, created_at: customers.get(customerId)?.created_at ?? at, updated_at: at });
        break;
      }
      case 'CustomerDeleted':
        customers.delete(payload.customerId);
        break;
      case 'ProductUpserted': {
        const { productId, name, category, price, currency } = payload;
        products.set(productId, { product_id: productId, name, category, price: scaled(price, MONEY_SCALE), currency, updated_at: at });
        break;
      }
      case 'FxRateSet': {
        const { currency, rateDate, rateToEur } = payload;
        fxRates.set(`${currency}:${rateDate}`, { currency, rate_date: rateDate, rate_to_eur: scaled(rateToEur, RATE_SCALE), updated_at: at });
        break;
      }
      case 'OrderPlaced': {
        const { orderId, customerId, currency, placedAt } = payload;
        orders.set(orderId, { order_id: orderId, customer_id: customerId, currency, status: pendingStatus.get(orderId) ?? 'placed', placed_at: new Date(placedAt).toISOString(), created_at: at, updated_at: at });
        lines.set(
          orderId,
          payload.lines.map((line) => ({ order_id: orderId, line_no: line.lineNo, product_id: line.productId, quantity: line.quantity, unit_price: scaled(line.unitPrice, MONEY_SCALE), discount_pct: scaled(line.discountPct, 2) })),
        );
        break;
      }
      case 'OrderStatusChanged': {
        const order = orders.get(payload.orderId);
        if (order) orders.set(order.order_id, { ...order, status: payload.status, updated_at: at });
        else pendingStatus.set(payload.orderId, payload.status);
        break;
      }
      case 'OrderDeleted':
        orders.delete(payload.orderId);
        lines.delete(payload.orderId);
        pendingStatus.delete(payload.orderId);
        break;
    }
  }
  const byKey = <T>(map: Map<string, T>): T[] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  return {
    customers: byKey(customers),
    products: byKey(products),
    fx_rates: byKey(fxRates),
    orders: byKey(orders),
    order_lines: byKey(lines).flat().sort((a, b) => (a.order_id === b.order_id ? a.line_no - b.line_no : a.order_id < b.order_id ? -1 : 1)),
  };
}
