/**
 * The transformations' contracts the comparator knows by name. Until the registry
 * (`src/transforms/index.ts`, branch batch) lands, the five shop contracts are listed here.
 */
import { UsageError } from '../src/errors.ts';
import type { TransformContract } from '../src/transforms/contract.ts';
import { customerLifetimeValueContract } from '../src/transforms/customer-lifetime-value.ts';
import { dailyRevenueByRegionContract } from '../src/transforms/daily-revenue-by-region.ts';
import { orderStatusCurrentContract } from '../src/transforms/order-status-current.ts';
import { ordersEnrichedContract } from '../src/transforms/orders-enriched.ts';
import { productSalesDailyContract } from '../src/transforms/product-sales-daily.ts';

export const contracts: readonly TransformContract[] = [ordersEnrichedContract, dailyRevenueByRegionContract, customerLifetimeValueContract, productSalesDailyContract, orderStatusCurrentContract];

export function contractNamed(name: string): TransformContract {
  const found = contracts.find((contract) => contract.name === name);
  if (!found) throw new UsageError(`unknown transformation "${name}"`, { hint: `known: ${contracts.map((contract) => contract.name).join(', ')}` });
  return found;
}
