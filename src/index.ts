/**
 * dualrun's public API for `dualrun.config.ts` and user transformations:
 * `import { defineConfig, defineTransform } from 'dualrun'`.
 */
export { defineConfig, type DualrunConfigInput, type Stage } from './config-file.ts';
export { defineTransform, type BatchContext, type Column, type ColumnRule, type Transform, type TransformContract } from './transforms/contract.ts';
export { DIFFERENCE_CATEGORIES, type DifferenceCategory } from './differences.ts';
export * as domain from './domain/index.ts';
