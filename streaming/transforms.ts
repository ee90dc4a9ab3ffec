/**
 * The transformations the streaming runner can run: the registry in src/transforms/index.ts, seen
 * through the part the runner needs (contract + stream half; never the batch half).
 */
import { UsageError } from '../src/errors.ts';
import { transformNames, transforms } from '../src/transforms/index.ts';
import type { StreamTransform } from './tasks/model.ts';

export const streamTransforms: StreamTransform[] = [...transforms];

/** The named transformations (each name may be a comma-separated list), or all of them. */
export function selectTransforms(names: string[]): StreamTransform[] {
  const wanted = names.flatMap((name) => name.split(',')).map((name) => name.trim()).filter(Boolean);
  if (wanted.length === 0) return streamTransforms;
  return wanted.map((name) => {
    const found = streamTransforms.find((transform) => transform.name === name);
    if (!found) throw new UsageError(`unknown transformation "${name}"`, { hint: `use one of: ${transformNames().join(', ')}` });
    return found;
  });
}
