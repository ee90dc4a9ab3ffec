/**
 * The project a command works on: the domain dualrun.config.ts names (the example shop by default,
 * loaded only then) and every transformation — the shop's five with the default domain, plus the
 * config's own. Each transformation is checked against the domain once, here (transforms/validate.ts),
 * so a pipeline that joins an entity the domain lacks or reads a field it does not declare fails at
 * load time with a ConfigError naming the transformation, the key and the fix.
 */
import type { DualrunConfig } from '../config-file.ts';
import { ConfigError } from '../errors.ts';
import type { DomainModel } from '../model/domain.ts';
import type { Transform } from '../transforms/contract.ts';
import { validateTransform } from '../transforms/validate.ts';

export interface Project {
  domain: DomainModel;
  transforms: Transform[];
}

export async function resolveProject(config: Pick<DualrunConfig, 'domain' | 'transforms' | 'migration'>, source = 'dualrun.config.ts'): Promise<Project> {
  const own = config.transforms as unknown as Transform[];
  let domain = config.domain;
  let transforms = own;
  if (!domain) {
    // The default: the example shop, which is a user of the public API like any other domain.
    const shop = await import('../domains/shop/index.ts');
    domain = shop.shop;
    for (const transform of own) {
      if (shop.shopTransforms.some((builtIn) => builtIn.name === transform.name)) {
        throw new ConfigError(`transforms.${transform.name}`, `"${transform.name}" is already one of the shop's transformations (in ${source})`, { hint: 'give your transformation another name' });
      }
    }
    transforms = [...shop.shopTransforms, ...own];
  }
  const seen = new Set<string>();
  for (const transform of transforms) {
    if (seen.has(transform.name)) throw new ConfigError(`transforms.${transform.name}`, `two transformations are called "${transform.name}" (in ${source})`, { hint: 'give each transformation its own name' });
    seen.add(transform.name);
    validateTransform(transform, domain, source);
  }
  for (const name of Object.keys(config.migration ?? {})) {
    if (!seen.has(name)) throw new ConfigError(`migration.${name}`, `no transformation is called "${name}" (in ${source})`, { hint: `use one of ${[...seen].join(', ')}, or add it under transforms` });
  }
  return { domain, transforms };
}
