/**
 * The example shop as the tests use it: its domain and transformations as one project, its scenarios
 * folder, and its nightly cut-off (02:00 Europe/Stockholm on the day after a business date).
 */
import { join } from 'node:path';
import { dailyRevenueByRegion, shop, shopTransforms } from '../../src/domains/shop/index.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { cutoffFor } from '../../src/time.ts';

export { dailyRevenueByRegion, shop, shopTransforms };
export const shopProject = { domain: shop, transforms: shopTransforms };
export const fixtures = join(import.meta.dirname, '../../fixtures');

/** When the nightly run for `date` looks at the data: `time` (default 02:00) Stockholm on the next day. */
export const shopCutoff = (date: string, time = '02:00'): Date => cutoffFor(date, time, shop.timeZone);

/** A shop scenario by name (a folder under fixtures/) or path. */
export const loadShopScenario = (nameOrDir: string) => loadScenario(nameOrDir.includes('/') ? nameOrDir : join(fixtures, nameOrDir), shopProject);
