/**
 * The registry of the shop's five transformations, in dependency-free order. Runners look
 * transformations up here by name; an unknown name is a usage error listing the known ones.
 */
import { UsageError } from '../errors.ts';
import type { Transform } from './contract.ts';
import { customerLifetimeValue } from './customer-lifetime-value.ts';
import { dailyRevenueByRegion } from './daily-revenue-by-region.ts';
import { orderStatusCurrent } from './order-status-current.ts';
import { ordersEnriched } from './orders-enriched.ts';
import { productSalesDaily } from './product-sales-daily.ts';

export const transforms: readonly Transform[] = [ordersEnriched, dailyRevenueByRegion, customerLifetimeValue, productSalesDaily, orderStatusCurrent];

export const transformNames = (): string[] => transforms.map((transform) => transform.name);

export function getTransform(name: string): Transform {
  const transform = transforms.find((candidate) => candidate.name === name);
  if (!transform) {
    throw new UsageError(`unknown transformation "${name}"`, { hint: `use one of: ${transformNames().join(', ')}` });
  }
  return transform;
}

export type { Transform } from './contract.ts';
export { customerLifetimeValue, dailyRevenueByRegion, orderStatusCurrent, ordersEnriched, productSalesDaily };
