/**
 * Finding transformations by name among a project's (its domain's and dualrun.config.ts's). An unknown
 * name is a usage error listing the known ones.
 */
import { UsageError } from '../errors.ts';
import type { Transform } from './contract.ts';

/** One transformation by name among `available`; an unknown name is a usage error listing them. */
export function getTransform(name: string, available: readonly Transform[]): Transform {
  const transform = available.find((candidate) => candidate.name === name);
  if (!transform) {
    throw new UsageError(`unknown transformation "${name}"`, { hint: `use one of: ${available.map((candidate) => candidate.name).join(', ')}` });
  }
  return transform;
}

/** The named transformations among `available` (each name may be a comma-separated list), or all of them. */
export function selectTransforms(names: readonly string[], available: readonly Transform[]): Transform[] {
  const wanted = names.flatMap((name) => name.split(',')).map((name) => name.trim()).filter(Boolean);
  if (wanted.length === 0) return [...available];
  return wanted.map((name) => getTransform(name, available));
}

export type { Transform } from './contract.ts';
