/**
 * dualrun's version, from its own package.json. Found by walking up from this module, so the answer
 * is the same from the sources (src/version.ts) and from the published build (dist/src/version.js),
 * where a relative import of the package.json would point one folder too high.
 */
import { readFileSync } from 'node:fs';

export function dualrunVersion(): string {
  let dir = new URL('./', import.meta.url);
  for (;;) {
    const file = new URL('package.json', dir);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (pkg.name === 'dualrun' && typeof pkg.version === 'string') return pkg.version;
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) throw new Error(`dualrun's package.json is not in any folder above ${import.meta.url}`);
    dir = parent;
  }
}
