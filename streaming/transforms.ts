/**
 * The transformations the streaming runner can run: the registry in src/transforms/index.ts, seen
 * through the part the runner needs (contract + stream half; never the batch half).
 */
import { getTransform, transforms } from '../src/transforms/index.ts';
import type { Transform } from '../src/transforms/contract.ts';
import type { StreamTransform } from './tasks/model.ts';

export const streamTransforms: StreamTransform[] = [...transforms];

/** The named transformations among `available` (each name may be a comma-separated list), or all of them. */
export function selectTransforms(names: string[], available: readonly Transform[] = transforms): StreamTransform[] {
  const wanted = names.flatMap((name) => name.split(',')).map((name) => name.trim()).filter(Boolean);
  if (wanted.length === 0) return [...available];
  return wanted.map((name) => getTransform(name, available));
}
