/**
 * dualrun's public API for `dualrun.config.ts` and user transformations:
 * `import { defineConfig, defineTransform } from 'dualrun'`.
 */
// First: fixes kafkajs' read_committed filter before kafkajs loads.
import './kafkajs-fixes.ts';

export { defineConfig, type DualrunConfigInput, type Stage } from './config-file.ts';
export { defineTransform, type BatchContext, type Column, type ColumnRule, type Transform, type TransformContract } from './transforms/contract.ts';
export { DIFFERENCE_CATEGORIES, type DifferenceCategory } from './differences.ts';
export * as domain from './domain/index.ts';
export { aggregateBy, count, fromOrders, latest, max, min, sumInteger, sumMoney, tumblingDay, upsertPerOrder, type OrderView, type StreamPipeline, type TableLookup } from './transforms/stream-dsl.ts';
export { amountInEur, businessDayOf, orderNetAmount, outputInstant, rateToEur } from './transforms/stream-shop.ts';
export { BUSINESS_TIME_ZONE } from './domain/time.ts';
