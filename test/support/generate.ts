/**
 * A deterministic generator of a busy shop (seeded PRNG), for the exactly-once/scale-out tests and
 * the benchmark: customers (some moving region mid-stream), products, daily FX rates, and orders with
 * status changes, cancellations, hard deletes, redeliveries (same event id again) and a few late
 * orders (placed a day or two before they arrive). Returned in arrival order, as test messages.
 */
import { REGIONS, TIERS } from '../../src/domains/shop/index.ts';
import { event, messageOf, type ShopEvent, type ShopPayloads, type TestMessage } from './events.ts';

type OrderLine = ShopPayloads['OrderPlaced']['lines'][number];

export interface GenerateOptions {
  /** Total input messages (approximately: rounded to whole orders). */
  events: number;
  seed?: number;
  customers?: number;
  products?: number;
  /** Days the order stream spans. */
  days?: number;
  start?: string;
}

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateShop(options: GenerateOptions): TestMessage[] {
  const random = prng(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const customers = options.customers ?? 2000;
  const products = options.products ?? 200;
  const days = options.days ?? 10;
  const startMs = Date.parse(options.start ?? '2024-10-20T00:00:00Z');
  const spanMs = days * 86_400_000;
  const out: TestMessage[] = [];
  const emit = (shopEvent: ShopEvent, arrivalMs: number) => out.push(messageOf(shopEvent, new Date(arrivalMs).toISOString()));
  const setupMs = startMs - 86_400_000;

  for (let c = 0; c < customers; c += 1) emit(event('CustomerUpserted', { customerId: `c${c}`, name: `Customer ${c}`, region: pick(REGIONS), tier: pick(TIERS) }, new Date(setupMs).toISOString(), `cu-${c}`), setupMs);
  const prices: string[] = [];
  for (let p = 0; p < products; p += 1) {
    prices.push(`${1 + Math.floor(random() * 200)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`);
    emit(event('ProductUpserted', { productId: `p${p}`, name: `Product ${p}`, category: `cat${p % 12}`, price: prices[p]!, currency: 'EUR' }, new Date(setupMs).toISOString(), `pu-${p}`), setupMs);
  }
  for (let d = -2; d <= days + 1; d += 1) {
    const rateDate = new Date(startMs + d * 86_400_000).toISOString().slice(0, 10);
    const at = Math.min(setupMs + 1000, startMs + (d - 1) * 86_400_000);
    emit(event('FxRateSet', { currency: 'SEK', rateDate, rateToEur: `0.0${850 + Math.floor(random() * 100)}` }, new Date(at).toISOString(), `fx-SEK-${rateDate}`), Math.max(at, setupMs));
    emit(event('FxRateSet', { currency: 'USD', rateDate, rateToEur: `0.9${Math.floor(random() * 1000)}` }, new Date(at).toISOString(), `fx-USD-${rateDate}`), Math.max(at, setupMs));
  }

  // The order stream: each order is ~1.5 messages on average (placed, some status changes, deletes, redeliveries).
  const orders = Math.max(1, Math.round((options.events - out.length) / 1.39));
  // Follow-ups (status changes, redeliveries, customer moves), kept sorted by arrival.
  const pending: { at: number; make: () => void }[] = [];
  const schedule = (follow: { at: number; make: () => void }) => {
    let low = 0;
    let high = pending.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (pending[mid]!.at <= follow.at) low = mid + 1;
      else high = mid;
    }
    pending.splice(low, 0, follow);
  };
  const step = spanMs / orders;
  let redeliveries = 0;
  for (let i = 0; i < orders; i += 1) {
    const arrival = startMs + Math.floor(i * step);
    const late = random() < 0.01;
    const placedMs = late ? arrival - 86_400_000 * (1 + random()) : arrival - Math.floor(random() * 60_000);
    const lines: OrderLine[] = [];
    const lineCount = 1 + Math.floor(random() * 3);
    for (let l = 0; l < lineCount; l += 1) {
      const p = Math.floor(random() * products);
      lines.push({ lineNo: l + 1, productId: `p${p}`, quantity: 1 + Math.floor(random() * 4), unitPrice: prices[p]!, discountPct: pick(['0', '0', '5', '10', '12.5']) });
    }
    const currency = pick(['EUR', 'EUR', 'SEK', 'USD'] as const);
    const orderId = `o${i}`;
    const placed = event('OrderPlaced', { orderId, customerId: `c${Math.floor(random() * customers)}`, currency, placedAt: new Date(placedMs).toISOString(), lines }, new Date(placedMs).toISOString(), `op-${i}`);
    // Flush follow-ups due before this arrival, in arrival order.
    while (pending.length > 0 && pending[0]!.at <= arrival) pending.shift()!.make();
    emit(placed, arrival);
    const roll = random();
    const later = arrival + Math.floor(random() * 3 * 3_600_000);
    if (roll < 0.3) schedule({ at: later, make: () => emit(event('OrderStatusChanged', { orderId, status: 'paid' }, new Date(later).toISOString(), `os-${i}`), later) });
    else if (roll < 0.36) schedule({ at: later, make: () => emit(event('OrderStatusChanged', { orderId, status: 'cancelled' }, new Date(later).toISOString(), `oc-${i}`), later) });
    else if (roll < 0.375) schedule({ at: later, make: () => emit(event('OrderDeleted', { orderId }, new Date(later).toISOString(), `od-${i}`), later) });
    if (random() < 0.01) {
      redeliveries += 1;
      const again = arrival + Math.floor(random() * 600_000);
      schedule({ at: again, make: () => emit(placed, again) });
    }
    if (random() < 0.002) {
      const c = Math.floor(random() * customers);
      const moveAt = arrival + 1;
      schedule({ at: moveAt, make: () => emit(event('CustomerUpserted', { customerId: `c${c}`, name: `Customer ${c}`, region: pick(REGIONS), tier: pick(TIERS) }, new Date(moveAt).toISOString(), `cm-${i}`), moveAt) });
    }
  }
  for (const follow of pending) follow.make();
  void redeliveries;
  return out;
}
