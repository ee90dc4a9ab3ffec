/**
 * The transformations the streaming runner can run, as the runner sees them (contract + stream half).
 * Reads the registry in src/transforms/index.ts once it exists; until then the five shop contracts.
 */
import { UsageError } from '../src/errors.ts';
import { customerLifetimeValueContract, customerLifetimeValueStream } from '../src/transforms/customer-lifetime-value.ts';
import { dailyRevenueByRegionContract, dailyRevenueByRegionStream } from '../src/transforms/daily-revenue-by-region.ts';
import { orderStatusCurrentContract, orderStatusCurrentStream } from '../src/transforms/order-status-current.ts';
import { ordersEnrichedContract, ordersEnrichedStream } from '../src/transforms/orders-enriched.ts';
import { productSalesDailyContract, productSalesDailyStream } from '../src/transforms/product-sales-daily.ts';
import type { StreamTransform } from './tasks/model.ts';

export const streamTransforms: StreamTransform[] = [
  { ...ordersEnrichedContract, stream: ordersEnrichedStream },
  { ...dailyRevenueByRegionContract, stream: dailyRevenueByRegionStream },
  { ...customerLifetimeValueContract, stream: customerLifetimeValueStream },
  { ...productSalesDailyContract, stream: productSalesDailyStream },
  { ...orderStatusCurrentContract, stream: orderStatusCurrentStream },
];

export function selectTransforms(names: string[]): StreamTransform[] {
  if (names.length === 0) return streamTransforms;
  return names.map((name) => {
    const found = streamTransforms.find((transform) => transform.name === name);
    if (!found) throw new UsageError(`unknown transformation "${name}"`, { hint: `use one of ${streamTransforms.map((t) => t.name).join(', ')}` });
    return found;
  });
}
