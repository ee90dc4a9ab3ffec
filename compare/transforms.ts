/**
 * The transformations the comparator knows by name: the registry's (src/transforms/index.ts) and the
 * user's from dualrun.config.ts. Only their contracts are used here — key, columns and rules, time semantics.
 */
import type { DualrunConfig } from '../src/config-file.ts';
import { allTransforms, getTransform, transforms } from '../src/transforms/index.ts';
import type { TransformContract } from '../src/transforms/contract.ts';

export const contracts: readonly TransformContract[] = transforms;

export function contractNamed(name: string, config: Pick<DualrunConfig, 'transforms'>): TransformContract {
  return getTransform(name, allTransforms(config));
}
