/**
 * The transformations the comparator knows by name: the registry's (src/transforms/index.ts).
 * Only their contracts are used here — key, columns and rules, time semantics.
 */
import { getTransform, transforms } from '../src/transforms/index.ts';
import type { TransformContract } from '../src/transforms/contract.ts';

export const contracts: readonly TransformContract[] = transforms;

export function contractNamed(name: string): TransformContract {
  return getTransform(name);
}
