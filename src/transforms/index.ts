/**
 * The registry of the shop's five transformations, in dependency-free order. Runners look
 * transformations up here by name; an unknown name is a usage error listing the known ones.
 */
import type { DualrunConfig } from '../config-file.ts';
import { UsageError } from '../errors.ts';
import type { Transform } from './contract.ts';
import { customerLifetimeValue } from './customer-lifetime-value.ts';
import { dailyRevenueByRegion } from './daily-revenue-by-region.ts';
import { orderStatusCurrent } from './order-status-current.ts';
import { ordersEnriched } from './orders-enriched.ts';
import { productSalesDaily } from './product-sales-daily.ts';

export const transforms: readonly Transform[] = [ordersEnriched, dailyRevenueByRegion, customerLifetimeValue, productSalesDaily, orderStatusCurrent];

export const transformNames = (): string[] => transforms.map((transform) => transform.name);

/** One transformation by name among `available` (default the built-ins); an unknown name is a usage error listing them. */
export function getTransform(name: string, available: readonly Transform[] = transforms): Transform {
  const transform = available.find((candidate) => candidate.name === name);
  if (!transform) {
    throw new UsageError(`unknown transformation "${name}"`, { hint: `use one of: ${available.map((candidate) => candidate.name).join(', ')}` });
  }
  return transform;
}

/** The built-in transformations and the user's from dualrun.config.ts, which every command runs alike (a user's may not shadow a built-in). */
export function allTransforms(config: Pick<DualrunConfig, 'transforms'>): Transform[] {
  const user = config.transforms as unknown as Transform[];
  for (const transform of user) {
    if (transforms.some((builtIn) => builtIn.name === transform.name)) {
      throw new UsageError(`transforms: "${transform.name}" is already a built-in transformation`, { hint: 'give your transformation another name' });
    }
  }
  return [...transforms, ...user];
}

export type { Transform } from './contract.ts';
export { customerLifetimeValue, dailyRevenueByRegion, orderStatusCurrent, ordersEnriched, productSalesDaily };
